using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FcTrain.Data;
using FcTrain.Evaluation;

namespace FcTrain.Snapshots;

/// <summary>
/// The tool-call snapshot of one dataset and split: <c>datasets/NAME/snapshots/SPLIT.verified.json</c>,
/// holding per case its id, category, the gold turn's calls (or kind of answer), the kind of answer given,
/// the parsed calls (sorted argument keys) with their schema check, and whether they match the gold turn.
/// Thinking text, raw output and timings are left out: they are volatile and not what the snapshot pins.
/// </summary>
public static class ToolCallSnapshot
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        IndentSize = 2,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        NewLine = "\n",
    };

    /// <summary>Each case starts with its id line; diffs name the cases they touch.</summary>
    public static readonly Regex CaseLine = new("^\\s*\"id\": \"([^\"]+)\"", RegexOptions.Compiled);

    public static string SplitName(Split split) => split == Split.Train ? "train" : "eval";

    /// <summary>The verified file of a dataset and split (full path; <see cref="Dataset.Directory"/> is relative to the repository root).</summary>
    public static string VerifiedPath(string repoRoot, Dataset dataset, Split split) =>
        Path.GetFullPath(Path.Combine(repoRoot, dataset.Directory, "snapshots", SplitName(split) + ".verified.json"));

    /// <summary>The snapshot text of one dataset's cases (ordered as given: by conversation id and turn).</summary>
    public static string Render(string datasetName, Split split, IEnumerable<CaseResult> results)
    {
        var document = new JsonObject
        {
            ["dataset"] = datasetName,
            ["split"] = SplitName(split),
            ["cases"] = new JsonArray(results.Select(r => (JsonNode)EvalReport.CaseJson(r, includeOutput: false)).ToArray()),
        };
        return document.ToJsonString(Indented) + "\n";
    }

    /// <summary>Settings for these files: repository paths scrubbed, sections are cases.</summary>
    public static SnapshotSettings Settings(string repoRoot) =>
        new([SnapshotSettings.Replace(Path.GetFullPath(repoRoot).TrimEnd('/', '\\'), "{RepoRoot}"), SnapshotSettings.DateTimes, SnapshotSettings.Guids],
            CaseLine, Path.GetFullPath(repoRoot));

    /// <summary>
    /// Checks (or with <paramref name="accept"/> updates) the snapshot of each dataset that has cases in the
    /// report's split, in dataset order.
    /// </summary>
    public static IReadOnlyList<SnapshotResult> Check(EvalReport report, IReadOnlyList<Dataset> datasets, string repoRoot, bool accept)
    {
        var settings = Settings(repoRoot);
        var outcomes = new List<SnapshotResult>();
        foreach (Dataset dataset in datasets.OrderBy(d => d.Manifest.Name, StringComparer.Ordinal))
        {
            var results = report.Results.Where(r => r.Case.Dataset == dataset.Manifest.Name).ToList();
            if (results.Count == 0) continue;
            string text = Render(dataset.Manifest.Name, report.Split, results);
            outcomes.Add(Snapshot.Verify(VerifiedPath(repoRoot, dataset, report.Split), text, settings, accept));
        }
        return outcomes;
    }
}
