using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.Interop;
using FcTrain.Validation;

namespace FcTrain.Reporting;

public enum ChangeKind { Added, Removed, Changed }

/// <summary>A call of a base conversation that the function's current parameters reject, and why.</summary>
public sealed record BrokenCall(string ConversationId, string Pointer, string Problem)
{
    public override string ToString() => $"{ConversationId} {Pointer}: {Problem}";
}

/// <summary>A function added, removed or changed (description or parameters); a removed or changed one may break calls.</summary>
public sealed record FunctionChange(string Name, ChangeKind Kind, IReadOnlyList<BrokenCall> BrokenCalls)
{
    public bool Breaking => BrokenCalls.Count > 0;
}

/// <summary>
/// What changed in one dataset (matched by name) between a base revision and now, by content: a conversation is
/// changed when its JSON differs as a value (key order, spacing, number spelling and the file it lives in do not
/// count); a function when its description or parameters differ; the manifest when a field other than
/// <c>version</c> differs. <see cref="Kind"/> is null for a dataset present on both sides.
/// </summary>
public sealed record DatasetChanges(
    string Name,
    ChangeKind? Kind,
    string? BaseVersion,
    string? Version,
    IReadOnlyList<string> ConversationsAdded,
    IReadOnlyList<string> ConversationsRemoved,
    IReadOnlyList<string> ConversationsChanged,
    IReadOnlyList<FunctionChange> Functions,
    IReadOnlyList<string> ManifestFields)
{
    /// <summary>Whether the data differs from the base (a new or removed dataset counts).</summary>
    public bool HasChanges => Kind is not null || ConversationsAdded.Count + ConversationsRemoved.Count + ConversationsChanged.Count
        + Functions.Count + ManifestFields.Count > 0;

    public bool Breaking => Functions.Any(f => f.Breaking);

    /// <summary>"2 conversation(s) added, 1 changed; function get_weather changed; manifest: split" (empty: nothing).</summary>
    public string Summary()
    {
        var parts = new List<string>();
        var conversations = new[] { (ConversationsAdded.Count, "added"), (ConversationsRemoved.Count, "removed"), (ConversationsChanged.Count, "changed") }
            .Where(p => p.Item1 > 0).Select(p => $"{p.Item1} {p.Item2}").ToList();
        if (conversations.Count > 0) parts.Add("conversations " + string.Join(", ", conversations));
        foreach (var group in Functions.GroupBy(f => f.Kind))
            parts.Add($"function(s) {Word(group.Key)}: {string.Join(", ", group.Select(f => f.Name))}");
        if (ManifestFields.Count > 0) parts.Add($"dataset.json: {string.Join(", ", ManifestFields)}");
        return string.Join("; ", parts);
    }

    public static string Word(ChangeKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>
    /// The changes of every dataset of either side, current datasets first (in their order), then removed ones.
    /// <paramref name="currentDiagnostics"/> (the current load's): a base conversation missing now whose file has an
    /// error is changed (it fails validation now), not removed.
    /// </summary>
    public static IReadOnlyList<DatasetChanges> Compare(IReadOnlyList<Dataset> baseDatasets, IReadOnlyList<Dataset> current,
        IReadOnlyList<Diagnostic>? currentDiagnostics = null)
    {
        var invalid = (currentDiagnostics ?? []).Where(d => d.Severity == Severity.Error).Select(d => d.File).ToHashSet(StringComparer.Ordinal);
        var before = baseDatasets.ToDictionary(d => d.Manifest.Name, StringComparer.Ordinal);
        var now = current.Select(d => d.Manifest.Name).ToHashSet(StringComparer.Ordinal);
        return current.Select(d => Compare(before.GetValueOrDefault(d.Manifest.Name), d, invalid))
            .Concat(baseDatasets.Where(d => !now.Contains(d.Manifest.Name)).Select(d => Compare(d, null, invalid)))
            .ToList();
    }

    private static DatasetChanges Compare(Dataset? before, Dataset? now, HashSet<string> invalidFiles)
    {
        var dataset = (now ?? before)!;
        if (before is null || now is null)
            return new DatasetChanges(dataset.Manifest.Name, before is null ? ChangeKind.Added : ChangeKind.Removed,
                before?.Manifest.Version, now?.Manifest.Version, [], [], [], [], []);

        var (added, gone, changed) = Diff(
            before.Conversations.Select(c => c.Conversation).ToDictionary(c => c.Id, ConversationKey, StringComparer.Ordinal),
            now.Conversations.Select(c => c.Conversation).ToDictionary(c => c.Id, ConversationKey, StringComparer.Ordinal));
        // Conversations the loader left out for an error (their file has one) are changed, not removed.
        var failing = before.Conversations.Where(c => invalidFiles.Contains(c.Conversation.Source.File)).Select(c => c.Conversation.Id).ToHashSet(StringComparer.Ordinal);
        var removed = gone.Where(id => !failing.Contains(id)).ToList();
        changed = [.. changed.Concat(gone.Where(failing.Contains)).Order(StringComparer.Ordinal)];
        var (functionsAdded, functionsRemoved, functionsChanged) = Diff(
            before.Functions.ToDictionary(f => f.Name, FunctionKey, StringComparer.Ordinal),
            now.Functions.ToDictionary(f => f.Name, FunctionKey, StringComparer.Ordinal));
        var current = now.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var functions = functionsAdded.Select(n => new FunctionChange(n, ChangeKind.Added, []))
            .Concat(functionsRemoved.Select(n => new FunctionChange(n, ChangeKind.Removed, BrokenCalls(before, n, null))))
            .Concat(functionsChanged.Select(n => new FunctionChange(n, ChangeKind.Changed, BrokenCalls(before, n, new ArgumentCheck(current[n])))))
            .OrderBy(f => f.Name, StringComparer.Ordinal)
            .ToList();
        return new DatasetChanges(now.Manifest.Name, null, before.Manifest.Version, now.Manifest.Version,
            added, removed, changed, functions, ChangedFields(before.Manifest, now.Manifest));
    }

    /// <summary>The calls of <paramref name="function"/> in the base conversations that its current parameters reject
    /// (every one when the function is gone, <paramref name="check"/> null), each with the FCT0010 problem it would be.</summary>
    private static List<BrokenCall> BrokenCalls(Dataset before, string function, ArgumentCheck? check)
    {
        var broken = new List<BrokenCall>();
        foreach (var (conversation, _) in before.Conversations)
            for (int m = 0; m < conversation.Messages.Count; m++)
            {
                var calls = conversation.Messages[m].ToolCalls ?? [];
                for (int c = 0; c < calls.Count; c++)
                {
                    if (calls[c].Name != function) continue;
                    string pointer = $"/messages/{m}/tool_calls/{c}";
                    if (check is null) broken.Add(new BrokenCall(conversation.Id, pointer, $"'{function}' no longer exists"));
                    else broken.AddRange(check.Problems(calls[c].Arguments).Select(p => new BrokenCall(conversation.Id, $"{pointer}/arguments{p.Pointer}", p.Problem)));
                }
            }
        return broken;
    }

    private static (List<string> Added, List<string> Removed, List<string> Changed) Diff(Dictionary<string, string> before, Dictionary<string, string> now) =>
        (now.Keys.Where(k => !before.ContainsKey(k)).Order(StringComparer.Ordinal).ToList(),
         before.Keys.Where(k => !now.ContainsKey(k)).Order(StringComparer.Ordinal).ToList(),
         now.Keys.Where(k => before.TryGetValue(k, out var b) && b != now[k]).Order(StringComparer.Ordinal).ToList());

    private static string ConversationKey(Conversation c) => CanonicalJson.Key(DatasetJson.Conversation(c, ""));

    private static string FunctionKey(FunctionDefinition f) => CanonicalJson.Key(DatasetJson.Function(f, ""));

    private static List<string> ChangedFields(DatasetManifest before, DatasetManifest now)
    {
        var fields = new List<string>();
        if (before.Description != now.Description) fields.Add("description");
        if (before.License != now.License) fields.Add("license");
        if (!before.Functions.SequenceEqual(now.Functions)) fields.Add("functions");
        if (!before.Conversations.SequenceEqual(now.Conversations)) fields.Add("conversations");
        if (!(before.Split.EvalIds ?? []).SequenceEqual(now.Split.EvalIds ?? []) || (before.Split.EvalIds is null) != (now.Split.EvalIds is null)
            || before.Split.EvalFraction != now.Split.EvalFraction || before.Split.Seed != now.Split.Seed)
            fields.Add("split");
        if (before.Template != now.Template) fields.Add("template");
        return fields;
    }
}
