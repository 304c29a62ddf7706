using FcTrain.Settings;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Cli;
using FcTrain.Cli.Commands;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.Tests.Evaluation;

namespace FcTrain.Tests.Cli;

/// <summary>
/// The eval and snapshot commands on a copy of the samples, scoring recorded turns (<c>--outputs</c>):
/// the gold turns themselves, as a model that memorised its data writes them.
/// </summary>
public sealed class EvalSnapshotCommandTests : IDisposable
{
    private readonly string _root = SampleData.CopyToTemp();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string WriteGoldOutputs(Split split)
    {
        var datasets = DatasetLoader.Load(_root, []).Datasets;
        string path = Path.Combine(_root, $"outputs-{split}.jsonl");
        File.WriteAllLines(path, datasets.SelectMany(d => EvalCase.From(d, split))
            .Select(c => new JsonObject { ["id"] = c.Id, ["output"] = SampleData.RenderGold(c.Gold) }.ToJsonString()));
        return path;
    }

    private (int Code, string Output) Snapshot(bool accept = false)
    {
        var output = new StringWriter();
        int code = SnapshotCommand.Run(_root, new EvalOptions { Split = Split.Train, Outputs = WriteGoldOutputs(Split.Train) }, accept, output);
        return (code, output.ToString());
    }

    [Fact]
    public void Eval_PrintsTheTable_AndWritesJson()
    {
        var output = new StringWriter();
        int code = EvalCommand.Run(_root, new EvalOptions { Outputs = WriteGoldOutputs(Split.Eval) }, "report.json", details: true, output);

        Assert.Equal(ExitCodes.Success, code);
        string text = output.ToString();
        Assert.Matches(@"\ntotal +\d+ +100\.0% +100\.0% +100\.0% +100\.0% +100\.0% +0\.0%\n", text);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(_root, "report.json")))!;
        Assert.Equal("eval", (string)json["split"]!);
        Assert.Equal((int)json["total"]!["cases"]!, json["cases"]!.AsArray().Count);
    }

    [Fact]
    public void Snapshot_New_ThenAccepted_ThenMatches()
    {
        var (code, text) = Snapshot();
        Assert.Equal(ExitCodes.Errors, code);
        Assert.Contains("datasets/weather/snapshots/train.verified.json: error FCT0402: no verified snapshot yet; wrote datasets/weather/snapshots/train.received.json.", text);

        Assert.Equal(ExitCodes.Success, Snapshot(accept: true).Code);
        (code, text) = Snapshot();
        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("fctrain snapshot: datasets/weather/snapshots/train.verified.json matches.", text);
    }

    [Fact]
    public void Snapshot_AfterEditingAGoldCall_FailsWithCanonicalErrorAndDiff()
    {
        Snapshot(accept: true);
        string file = Path.Combine(_root, "datasets/travel/conversations/travel-005.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"to\": \"GBP\"", "\"to\": \"EUR\""));

        var (code, text) = Snapshot();

        Assert.Equal(ExitCodes.Errors, code);
        string[] lines = text.Split('\n');
        string error = Assert.Single(lines, l => l.Contains("error FCT0401"));
        Assert.StartsWith("datasets/travel/snapshots/train.verified.json: error FCT0401: the tool calls differ from the verified snapshot in case travel-005#1;", error);
        Assert.Contains("    -            \"to\": \"GBP\"", lines);
        Assert.Contains("    +            \"to\": \"EUR\"", lines);
        // Only the diagnostic line is in MSBuild's canonical error form.
        Assert.Single(lines, l => l.Contains(": error "));
        Assert.True(File.Exists(Path.Combine(_root, "datasets/travel/snapshots/train.received.json")));
    }

    [Fact]
    public void Snapshot_WithDataErrors_ReportsThemAll_AndEvaluatesNothing()
    {
        string file = Path.Combine(_root, "datasets/weather/conversations/weather-002.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"get_forecast\",\n          \"arguments\"", "\"get_forecastt\",\n          \"arguments\""));
        var output = new StringWriter();
        int code = SnapshotCommand.Run(_root, new EvalOptions { Split = Split.Train, Outputs = "none.jsonl" }, false, output);
        Assert.Equal(ExitCodes.Errors, code);
        Assert.Contains("datasets/weather/conversations/weather-002.json(", output.ToString());
        Assert.DoesNotContain("snapshot(s)", output.ToString());
    }

    [Fact]
    public void MissingOutputs_IsAUserError()
    {
        var e = Assert.Throws<FcTrainException>(() => EvalCommand.Run(_root, new EvalOptions { Outputs = "missing.jsonl" }, null, false, new StringWriter()));
        Assert.Equal("missing.jsonl: error FCT0404: the outputs file does not exist. Pass a JSONL file of {\"id\": …, \"output\": …} lines.", e.Diagnostic.ToString());
        File.WriteAllText(Path.Combine(_root, "bad.jsonl"), "{\"id\": \"x#1\", \"output\": \"\"}\n[1]\n");
        e = Assert.Throws<FcTrainException>(() => EvalCommand.Run(_root, new EvalOptions { Outputs = "bad.jsonl" }, null, false, new StringWriter()));
        Assert.StartsWith("bad.jsonl(2,1): error FCT0404:", e.Diagnostic.ToString());
    }
}
