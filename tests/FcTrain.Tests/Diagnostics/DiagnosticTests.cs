using FcTrain.Diagnostics;

namespace FcTrain.Tests.Diagnostics;

public class DiagnosticTests
{
    [Fact]
    public void Formats_in_msbuild_canonical_form()
    {
        var d = new Diagnostic("datasets/travel/conversations/t1.json", 12, 7, Severity.Error, "FCT0001", "bad");
        Assert.Equal("datasets/travel/conversations/t1.json(12,7): error FCT0001: bad", d.ToString());
    }

    [Fact]
    public void Formats_whole_file_warnings_without_position()
    {
        var d = new Diagnostic("datasets/a.json", 0, 0, Severity.Warning, "FCT1001", "odd");
        Assert.Equal("datasets/a.json: warning FCT1001: odd", d.ToString());
    }
}
