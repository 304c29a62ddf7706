using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Snapshots;
using FcTrain.Tests.Evaluation;

namespace FcTrain.Tests.Snapshots;

/// <summary>
/// The repository's own <c>datasets/*/snapshots/train.verified.json</c> against the data as it is now: the same
/// cases, each expecting what its gold turn says. A gold edit fails here, naming the case, without training;
/// the model's side of the snapshot is checked by <c>dotnet build -t:Train</c>.
/// </summary>
public class VerifiedSnapshotsTests
{
    public static TheoryData<string> DatasetNames() => [.. SampleData.Datasets.Select(d => d.Manifest.Name)];

    [Theory]
    [MemberData(nameof(DatasetNames))]
    public void Train_snapshot_holds_every_train_case_expecting_its_gold_turn(string name)
    {
        var dataset = SampleData.Named(name);
        string path = ToolCallSnapshot.VerifiedPath(RepoPaths.Root, dataset, Split.Train);
        var pinned = JsonNode.Parse(File.ReadAllText(path))!["cases"]!.AsArray()
            .ToDictionary(c => (string)c!["id"]!, c => c!["expected"]);
        var cases = EvalCase.From(dataset, Split.Train);

        Assert.Equal(cases.Select(c => c.Id), pinned.Keys);
        var stale = cases.Where(c => !JsonNode.DeepEquals(EvalReport.ExpectedJson(c), pinned[c.Id])).Select(c => c.Id).ToList();
        Assert.True(stale.Count == 0,
            $"{Path.GetRelativePath(RepoPaths.Root, path)} expects other calls than the data for {string.Join(", ", stale)}: " +
            "run 'dotnet build -t:Train', review the diff, and accept it with 'dotnet fctrain snapshot --accept'.");
    }
}
