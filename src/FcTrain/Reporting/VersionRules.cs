using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.Reporting;

/// <summary>
/// Versioned data: a dataset whose content changed since the base revision must raise its <c>version</c>
/// (FCT0703, at <c>dataset.json</c>'s <c>version</c>), and a function change that breaks calls of the base's
/// conversations needs a major version bump (FCT0704, a warning, at the function's <c>parameters</c>).
/// </summary>
public static class VersionRules
{
    public const string VersionNotRaised = "FCT0703", BreakingWithoutMajor = "FCT0704";

    /// <summary>The diagnostics of <paramref name="changes"/>; paths relative to <paramref name="root"/>, as the loader's.</summary>
    public static IReadOnlyList<Diagnostic> Check(string root, string baseName, IReadOnlyList<Dataset> current, IReadOnlyList<DatasetChanges> changes)
    {
        var diagnostics = new List<Diagnostic>();
        var datasets = current.ToDictionary(d => d.Manifest.Name, StringComparer.Ordinal);
        foreach (var change in changes.Where(c => c.Kind is null && c.HasChanges))
        {
            var dataset = datasets[change.Name];
            var manifest = Record(root, dataset.Manifest.Source);
            if (SemanticVersion.Parse(change.Version!) is not { } now || SemanticVersion.Parse(change.BaseVersion!) is not { } before) continue;
            if (now.CompareTo(before) <= 0)
                diagnostics.Add(manifest.Error("/version", VersionNotRaised,
                    $"dataset '{change.Name}' changed since {baseName} ({change.Summary()}) but its version "
                    + (now.CompareTo(before) == 0 ? $"is still {change.Version}" : $"went down from {change.BaseVersion} to {change.Version}")
                    + ". Changed data gets a new version, so adapters and reports name the data they saw: raise it "
                    + $"({Next(before, 0)} for fixes, {Next(before, 1)} for additions, {Next(before, 2)} for changes that break existing calls)."));
            if (!change.Breaking || now.IsMajorBumpOver(before)) continue;
            foreach (var function in change.Functions.Where(f => f.Breaking))
            {
                string calls = string.Join("; ", function.BrokenCalls.Take(5)) + (function.BrokenCalls.Count > 5 ? $"; and {function.BrokenCalls.Count - 5} more" : "");
                string message = $"'{function.Name}' {(function.Kind == ChangeKind.Removed ? "was removed" : "changed")} since {baseName} in a way that breaks "
                    + $"{function.BrokenCalls.Count} call(s) of its conversations there ({calls}). A breaking change needs a major version: "
                    + $"{Next(before, 2)} (dataset.json has {change.Version}); or keep the old parameters working (optional instead of required, wider types).";
                var definition = dataset.Functions.FirstOrDefault(f => f.Name == function.Name);
                diagnostics.Add(definition is null
                    ? manifest.Warning("/version", BreakingWithoutMajor, message)
                    : Record(root, definition.Source).Warning("/parameters", BreakingWithoutMajor, message));
            }
        }
        return diagnostics;
    }

    /// <summary>The next patch (0), minor (1) or major (2) version; for 0.y.z a major change is the next minor.</summary>
    private static string Next(SemanticVersion v, int part) => part switch
    {
        0 => $"{v.Major}.{v.Minor}.{v.Patch + 1}",
        1 => $"{v.Major}.{v.Minor + 1}.0",
        _ => v.Major == 0 ? $"0.{v.Minor + 1}.0" : $"{v.Major + 1}.0.0",
    };

    /// <summary>The record a source points at (a *.json file, or a line of a *.jsonl file), to locate pointers in it.</summary>
    private static JsonRecord Record(string root, SourceSpan source)
    {
        byte[] bytes = File.ReadAllBytes(Path.GetFullPath(source.File, root));
        ReadOnlyMemory<byte> text = bytes;
        if (text.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) text = text[3..];
        int firstLine = 1;
        if (source.File.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            for (; firstLine < Math.Max(source.Line, 1); firstLine++) text = text[(text.Span.IndexOf((byte)'\n') + 1)..];
            int end = text.Span.IndexOf((byte)'\n');
            if (end >= 0) text = text[..end];
        }
        // The file loaded a moment ago without an error, so it parses.
        var (record, document) = JsonRecord.Parse(source.File, text, firstLine, new List<Diagnostic>())!.Value;
        document.Dispose();
        return record;
    }
}
