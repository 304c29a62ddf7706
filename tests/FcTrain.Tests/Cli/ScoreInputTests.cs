using System.Text.Json;

namespace FcTrain.Tests.Cli;

/// <summary><c>fctrain score</c> with ids it cannot use: one canonical error, or a result that is valid JSON.</summary>
public class ScoreInputTests
{
    private static string Model => Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2/tiny-f32");

    [Theory]
    [InlineData("2,99999999999999999999", "--input-ids must be comma-separated integers (64-bit), e.g. 2,651,6037; '99999999999999999999' is not one.")]
    [InlineData("", "--input-ids is empty")]
    [InlineData(",,", "--input-ids is empty")]
    public void Ids_it_cannot_read_are_FCT0217(string ids, string expected)
    {
        var (exit, _, stderr) = CliRunner.Run(RepoPaths.Root, "score", "--model", Model, "--input-ids", ids, "--device", "cpu");

        Assert.Equal(1, exit);
        Assert.Contains($"error FCT0217: --input-ids", stderr);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_single_id_has_no_next_token_and_reports_loss_null()
    {
        var (exit, stdout, stderr) = CliRunner.Run(RepoPaths.Root, "score", "--model", Model, "--input-ids", "2", "--device", "cpu");

        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("loss").ValueKind);
        Assert.Equal(0, json.RootElement.GetProperty("logprobs").GetArrayLength());
    }
}
