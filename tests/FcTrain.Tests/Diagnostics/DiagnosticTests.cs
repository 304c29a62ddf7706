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

    [Fact]
    public void Is_always_one_line_whatever_the_file_name_and_message_hold()
    {
        var d = new Diagnostic("datasets/a\nb.json", 2, 3, Severity.Error, "FCT0001", "malformed JSON: 'f\r\n  {' is invalid\u2028");
        Assert.Equal("datasets/a\\u000ab.json(2,3): error FCT0001: malformed JSON: 'f\\u000d\\u000a  {' is invalid\\u2028", d.ToString());
    }
}
