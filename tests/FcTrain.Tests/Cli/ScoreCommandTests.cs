using System.Text.Json;
using FcTrain.SafeTensors;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Cli;

public class ScoreCommandTests
{
    [Fact]
    public void Score_reproduces_the_golden_logits_and_reports_log_probabilities()
    {
        string folder = ConformanceTests.Golden.Folder("tiny-f32");
        var golden = ConformanceTests.Golden.Load("tiny-f32");
        using var scope = NewDisposeScope();
        var goldenIds = golden.Tensor("input_ids", ScalarType.Int64)[0];
        string ids = string.Join(',', goldenIds.data<long>().ToArray());
        string logitsFile = Path.Combine(Directory.CreateTempSubdirectory("fctrain-score-").FullName, "logits.safetensors");

        var (exit, stdout, stderr) = CliRunner.Run(RepoPaths.Root, "score", "--model", folder, "--input-ids", ids, "--logits-out", logitsFile, "--device", "cpu");

        Assert.True(exit == 0, stderr);
        var logits = SafeTensorsFile.Open(logitsFile).Read("logits");
        ConformanceTests.Golden.AssertClose(golden.Tensor("logits", ScalarType.Float32)[0], logits, 1e-4);
        using var json = JsonDocument.Parse(stdout);
        var logprobs = json.RootElement.GetProperty("logprobs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(goldenIds.shape[0] - 1, logprobs.Length);
        Assert.Equal(-logprobs.Average(), json.RootElement.GetProperty("loss").GetDouble(), 5);
    }

    [Theory]
    [InlineData("2,x", "'x' is not a 64-bit integer")]
    [InlineData("2,99999999999999999999", "'99999999999999999999' is not a 64-bit integer")]
    [InlineData(",", "--input-ids is empty")]
    [InlineData("", "--input-ids is empty")]
    public void Bad_ids_are_a_usage_error_without_a_stack_trace(string ids, string message)
    {
        var (exit, _, stderr) = CliRunner.Run(RepoPaths.Root, "score", "--model", ConformanceTests.Golden.Folder("tiny-f32"), "--input-ids", ids);
        Assert.Equal(2, exit);
        Assert.Contains("error FCT0217: ", stderr);
        Assert.Contains(message, stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_single_id_has_no_next_token_so_the_loss_is_null()
    {
        var (exit, stdout, stderr) = CliRunner.Run(RepoPaths.Root, "score", "--model", ConformanceTests.Golden.Folder("tiny-f32"), "--input-ids", "2", "--device", "cpu");
        Assert.True(exit == 0, stderr);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(JsonValueKind.Null, json.RootElement.GetProperty("loss").ValueKind);
        Assert.Equal(0, json.RootElement.GetProperty("logprobs").GetArrayLength());
    }
}
