using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Snapshots;
using FcTrain.Tests.Evaluation;

namespace FcTrain.Tests.Snapshots;

/// <summary>
/// The snapshot files of the pipeline, driven by a "model" that reproduces the gold turns it is shown
/// (what a model that memorised its training data does): editing a gold tool call must fail the check
/// with a diff that names the case; a model whose output does not follow the edit names it too, through the
/// case's expected calls.
/// </summary>
public sealed class ToolCallSnapshotTests : IDisposable
{
    private readonly string _root = SampleData.CopyToTemp();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private IReadOnlyList<Dataset> Load()
    {
        var result = DatasetLoader.Load(_root, []);
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Datasets;
    }

    /// <summary>The snapshot check of the train split, by default with a "model" that reproduces each gold turn.</summary>
    private IReadOnlyList<SnapshotResult> Check(bool accept = false, Func<EvalCase, GeneratedTurn>? model = null)
    {
        var datasets = Load();
        model ??= c => new GeneratedTurn(SampleData.RenderGold(c.Gold));
        var report = EvalRunner.Run(datasets, Split.Train, cases => [.. cases.Select(model)], "gold", null);
        return ToolCallSnapshot.Check(report, datasets, _root, accept);
    }

    [Fact]
    public void Accepted_ThenUnchanged_Matches()
    {
        var first = Check();
        Assert.All(first, r => Assert.Equal(SnapshotStatus.New, r.Status));
        Assert.Equal(SampleData.Datasets.Count, first.Count);
        Check(accept: true);
        Assert.All(Check(), r => Assert.Equal(SnapshotStatus.Matched, r.Status));
        Assert.Empty(Directory.EnumerateFiles(_root, "*.received.json", SearchOption.AllDirectories));
        string weather = File.ReadAllText(Path.Combine(_root, "datasets/weather/snapshots/train.verified.json"));
        Assert.StartsWith("{\n  \"dataset\": \"weather\",\n  \"split\": \"train\",\n  \"cases\": [\n    {\n      \"id\": \"weather-002#1\",", weather);
        Assert.DoesNotContain("thinking", weather);
    }

    [Fact]
    public void EditingAGoldToolCall_FailsWithADiffNamingTheCase()
    {
        Check(accept: true);
        string file = Path.Combine(_root, "datasets/weather/conversations/weather-002.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"days\": 5", "\"days\": 3"));

        var results = Check();

        var weather = Assert.Single(results, r => r.Status == SnapshotStatus.Mismatched);
        Assert.Equal(["weather-002#1"], weather.ChangedSections);
        Assert.Contains("@@ ", weather.Diff);
        Assert.Contains("\"id\": \"weather-002#1\"", weather.Diff);
        Assert.Contains("-            \"days\": 5\n+            \"days\": 3\n", weather.Diff);
        Assert.StartsWith("--- datasets/weather/snapshots/train.verified.json\n+++ datasets/weather/snapshots/train.received.json\n", weather.Diff);
        Assert.True(File.Exists(weather.ReceivedPath));
        Assert.All(results.Where(r => r != weather), r => Assert.Equal(SnapshotStatus.Matched, r.Status));
    }

    [Fact]
    public void EditingAGoldToolCall_IsNamedEvenWhenTheModelsOutputStaysTheSame()
    {
        // A model that answers every prompt with the same text: its output cannot follow the edit, but the
        // case's "expected" calls do.
        GeneratedTurn Constant(EvalCase c) => new("I can't help with that.");
        Check(accept: true, Constant);
        string file = Path.Combine(_root, "datasets/weather/conversations/weather-002.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"days\": 5", "\"days\": 3"));

        var results = Check(model: Constant);

        var weather = Assert.Single(results, r => r.Status == SnapshotStatus.Mismatched);
        Assert.Equal(["weather-002#1"], weather.ChangedSections);
        Assert.Contains("-            \"days\": 5\n+            \"days\": 3\n", weather.Diff);
        Assert.DoesNotContain("\"calls\"", weather.Diff);
    }
}
