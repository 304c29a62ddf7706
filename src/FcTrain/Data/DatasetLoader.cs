using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.Data;

/// <summary>The datasets that could be read, and every problem found in them (errors and warnings).</summary>
public sealed record LoadResult(IReadOnlyList<Dataset> Datasets, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
}

/// <summary>
/// Loads and validates datasets: the one entry point for everything that reads data (validate, tokenize, evaluate).
/// Every file of every dataset is checked and all problems are reported in one run; no file is ever written.
/// </summary>
public static class DatasetLoader
{
    /// <summary>
    /// Loads the datasets at <paramref name="paths"/> (dataset folders, dataset.json files, or files inside a
    /// dataset, which load their whole dataset; a folder holding dataset folders loads each), or with no paths
    /// every <c>datasets/*/dataset.json</c> under <paramref name="repoRoot"/>. Diagnostic paths are relative to
    /// <paramref name="repoRoot"/>. A dataset with errors is still returned with what could be read; callers
    /// that train or evaluate must stop when <see cref="LoadResult.HasErrors"/>.
    /// </summary>
    public static LoadResult Load(string repoRoot, IReadOnlyList<string> paths)
    {
        repoRoot = Path.GetFullPath(repoRoot);
        var diagnostics = new List<Diagnostic>();
        var datasets = new List<Dataset>();
        foreach (string manifest in FindManifests(repoRoot, paths, diagnostics))
            if (LoadDataset(repoRoot, manifest, diagnostics) is { } dataset) datasets.Add(dataset);

        var ordered = diagnostics.Distinct()
            .OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ThenBy(d => d.Code, StringComparer.Ordinal)
            .ToList();
        return new LoadResult(datasets, ordered);
    }

    private static List<string> FindManifests(string repoRoot, IReadOnlyList<string> paths, List<Diagnostic> diagnostics)
    {
        var manifests = new List<string>();
        if (paths.Count == 0)
        {
            string folder = Path.Combine(repoRoot, "datasets");
            if (Directory.Exists(folder))
                manifests.AddRange(Directory.EnumerateDirectories(folder).Select(d => Path.Combine(d, "dataset.json")).Where(File.Exists));
            if (manifests.Count == 0)
                diagnostics.Add(new Diagnostic("datasets", 0, 0, Severity.Error, DiagnosticCodes.NotADataset,
                    "no dataset found: datasets/*/dataset.json matches no file. Create a dataset folder with a dataset.json, or name the dataset folders to validate."));
        }
        foreach (string path in paths)
        {
            string full = Path.GetFullPath(path, repoRoot);
            string? found = File.Exists(full) ? EnclosingManifest(full, repoRoot)
                : Directory.Exists(full) ? (File.Exists(Path.Combine(full, "dataset.json")) ? Path.Combine(full, "dataset.json") : null)
                : null;
            if (found is null && Directory.Exists(full))
            {
                var children = Directory.EnumerateDirectories(full).Select(d => Path.Combine(d, "dataset.json")).Where(File.Exists).ToList();
                if (children.Count > 0) { manifests.AddRange(children); continue; }
            }
            if (found is not null) manifests.Add(found);
            else
                diagnostics.Add(new Diagnostic(Relative(repoRoot, full), 0, 0, Severity.Error, DiagnosticCodes.NotADataset,
                    File.Exists(full) || Directory.Exists(full)
                        ? "this path is not part of a dataset: no dataset.json in it or in a folder above it. Name a dataset folder (one with a dataset.json)."
                        : "this path does not exist. Name an existing dataset folder or file."));
        }
        return manifests.Select(Path.GetFullPath).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    private static string? EnclosingManifest(string file, string repoRoot)
    {
        if (Path.GetFileName(file) == "dataset.json") return file;
        for (var dir = Path.GetDirectoryName(file); dir is not null && dir.Length >= repoRoot.Length; dir = Path.GetDirectoryName(dir))
            if (File.Exists(Path.Combine(dir, "dataset.json"))) return Path.Combine(dir, "dataset.json");
        return null;
    }

    internal static string Relative(string repoRoot, string path) => Path.GetRelativePath(repoRoot, path).Replace('\\', '/');

    private static Dataset? LoadDataset(string repoRoot, string manifestPath, List<Diagnostic> diagnostics)
    {
        string manifestFile = Relative(repoRoot, manifestPath);
        if (JsonReading.ReadFile(manifestPath, manifestFile, diagnostics) is not { } manifestText) return null;
        var manifestSource = new JsonSource(manifestFile, manifestText, 1);
        if (JsonReading.Parse(manifestSource, diagnostics) is not { } manifestRoot) return null;
        if (ManifestCheck.Read(manifestSource, manifestRoot, diagnostics) is not { } manifest) return null;

        string directory = Path.GetDirectoryName(manifestPath)!;
        var files = Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal).ToList();

        // Functions first: conversations are checked against them.
        var functions = new Dictionary<string, CompiledFunction>(StringComparer.Ordinal);
        foreach (string file in Matches(manifestSource, "functions", manifest.Functions, files, diagnostics))
        {
            string relative = Relative(repoRoot, Path.Combine(directory, file));
            if (!file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                diagnostics.Add(new Diagnostic(relative, 0, 0, Severity.Error, DiagnosticCodes.UnsupportedFile,
                    "a function file must be a *.json file holding one function. Rename it, or narrow the manifest's 'functions' globs."));
                continue;
            }
            if (JsonReading.ReadFile(Path.Combine(directory, file), relative, diagnostics) is not { } text) continue;
            var source = new JsonSource(relative, text, 1);
            if (JsonReading.Parse(source, diagnostics) is not { } root) continue;
            if (FunctionCheck.Read(source, root, diagnostics) is not { } function) continue;
            if (!functions.TryAdd(function.Definition.Name, function))
                diagnostics.Add(source.Error("/name", DiagnosticCodes.DuplicateFunctionName,
                    $"the function name '{function.Definition.Name}' is already defined by {functions[function.Definition.Name].Source.File}. Function names must be unique in a dataset; rename one or delete the duplicate."));
        }

        // Conversations: read every record, then check them in parallel (each check only reads shared state).
        var records = new List<(JsonSource Source, bool JsonLine)>();
        foreach (string file in Matches(manifestSource, "conversations", manifest.Conversations, files, diagnostics))
        {
            string relative = Relative(repoRoot, Path.Combine(directory, file));
            bool jsonLines = file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
            if (!jsonLines && !file.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                diagnostics.Add(new Diagnostic(relative, 0, 0, Severity.Error, DiagnosticCodes.UnsupportedFile,
                    "a conversation file must be *.json (one conversation) or *.jsonl (one conversation per line). Rename it, or narrow the manifest's 'conversations' globs."));
                continue;
            }
            if (JsonReading.ReadFile(Path.Combine(directory, file), relative, diagnostics) is not { } text) continue;
            records.AddRange(JsonReading.Records(relative, text, jsonLines).Select(r => (r, jsonLines)));
        }
        var results = new (Conversation? Conversation, List<Diagnostic> Diagnostics)[records.Count];
        Parallel.For(0, records.Count, i =>
        {
            var found = new List<Diagnostic>();
            var (source, jsonLine) = records[i];
            Conversation? conversation = JsonReading.Parse(source, found) is { } root
                ? ConversationCheck.Read(source, root, jsonLine, functions, found)
                : null;
            results[i] = (conversation, found);
        });

        var conversations = new List<(Conversation, Split)>();
        var ids = new Dictionary<string, JsonSource>(StringComparer.Ordinal);
        var called = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < results.Length; i++)
        {
            diagnostics.AddRange(results[i].Diagnostics);
            if (results[i].Conversation is not { } conversation) continue;
            var source = records[i].Source;
            if (!ids.TryAdd(conversation.Id, source))
            {
                var first = ids[conversation.Id];
                diagnostics.Add(source.Error("/id", DiagnosticCodes.DuplicateConversationId,
                    $"the conversation id '{conversation.Id}' is already used by {first.File}{(first.FirstLine > 1 || records[i].JsonLine ? $" line {first.FirstLine}" : "")}. Ids must be unique in a dataset (the split and snapshots refer to them); rename one."));
                continue;
            }
            foreach (var message in conversation.Messages)
                foreach (var call in message.ToolCalls ?? []) called.Add(call.Name);
            conversations.Add((conversation, DatasetSplit.Of(conversation.Id, manifest.Split)));
        }

        CheckSplit(manifestSource, manifest, ids, conversations, diagnostics);
        foreach (var function in functions.Values.Where(f => !called.Contains(f.Definition.Name)))
            diagnostics.Add(function.Source.Warning("/name", DiagnosticCodes.FunctionNeverCalled,
                $"the function '{function.Definition.Name}' is never called in any conversation of dataset '{manifest.Name}', so the model never learns when to call it. Add conversations that call it, or remove it."));

        return new Dataset(manifest, directory, functions.Values.Select(f => f.Definition).ToList(), conversations);
    }

    /// <summary>The dataset files a manifest's globs match, in ordinal order; FCT1003 for a glob matching nothing.</summary>
    private static List<string> Matches(JsonSource manifest, string property, IReadOnlyList<string> globs, List<string> files, List<Diagnostic> diagnostics)
    {
        var matched = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < globs.Count; i++)
        {
            var glob = new Glob(globs[i]);
            int before = matched.Count;
            foreach (string file in files.Where(f => f != "dataset.json" && glob.IsMatch(f))) matched.Add(file);
            if (matched.Count == before && !files.Any(f => glob.IsMatch(f)))
                diagnostics.Add(manifest.Warning($"/{property}/{i}", DiagnosticCodes.GlobMatchesNothing,
                    $"the glob \"{globs[i]}\" matches no file in the dataset folder. Fix the pattern (relative to the folder of dataset.json; * stays within a folder, ** crosses folders) or remove it."));
        }
        return [.. matched];
    }

    private static void CheckSplit(JsonSource manifest, DatasetManifest dataset, Dictionary<string, JsonSource> ids,
        List<(Conversation Conversation, Split Split)> conversations, List<Diagnostic> diagnostics)
    {
        var evalIds = dataset.Split.EvalIds ?? [];
        for (int i = 0; i < evalIds.Count; i++)
            if (!ids.ContainsKey(evalIds[i]))
                diagnostics.Add(manifest.Error($"/split/eval_ids/{i}", DiagnosticCodes.UnknownEvalId,
                    $"the eval id '{evalIds[i]}' names no conversation of this dataset{ConversationCheck.Closest(evalIds[i], ids.Keys)}. Fix the id or remove it."));
        if (conversations.Count == 0) return;
        int eval = conversations.Count(c => c.Split == Split.Eval);
        if (eval == 0 || eval == conversations.Count)
            diagnostics.Add(manifest.Warning("/split", DiagnosticCodes.EmptySplit,
                $"the split puts all {conversations.Count} conversations in {(eval == 0 ? "train" : "eval")}, so the {(eval == 0 ? "eval" : "train")} split is empty. List some eval_ids, or change eval_fraction."));
    }
}
