using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.Data;

/// <summary>
/// Loads and validates datasets: the one entry point for every command that reads data.
/// All problems of all files are reported in one run; files are never modified.
/// </summary>
public static class DatasetLoader
{
    /// <summary>
    /// Loads the datasets named by <paramref name="paths"/> (dataset folders, dataset.json files, or any file
    /// inside a dataset, relative to <paramref name="repoRoot"/> or absolute); none = every dataset.json under
    /// <c>repoRoot/datasets</c>. Diagnostics carry paths relative to <paramref name="repoRoot"/> with '/' separators.
    /// The datasets hold only records that passed validation.
    /// </summary>
    public static LoadResult Load(string repoRoot, IReadOnlyList<string> paths, LoadOptions? options = null)
    {
        options ??= new LoadOptions();
        string root = Path.GetFullPath(repoRoot);
        var diagnostics = new List<Diagnostic>();
        var datasets = new List<Dataset>();
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string manifest in FindManifests(root, paths, diagnostics))
        {
            var reader = new DatasetReader(root, manifest, options);
            if (reader.Read(diagnostics) is not { } dataset) continue;
            if (names.TryAdd(dataset.Manifest.Name, dataset.Manifest.Source.File)) datasets.Add(dataset);
            else diagnostics.Add(reader.ManifestRecord!.Error("/name", DiagnosticCodes.Duplicate,
                $"dataset name '{dataset.Manifest.Name}' is already used by {names[dataset.Manifest.Name]}. Give each dataset its own name."));
        }
        // Folders walked twice (for manifests, then as a dataset) report a bad link once.
        var sorted = diagnostics.Distinct()
            .OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column)
            .ThenBy(d => d.Code, StringComparer.Ordinal).ThenBy(d => d.Message, StringComparer.Ordinal)
            .ToList();
        return new LoadResult(datasets, sorted);
    }

    /// <summary>The dataset.json files to load, full paths, sorted, each once.</summary>
    private static List<string> FindManifests(string root, IReadOnlyList<string> paths, List<Diagnostic> diagnostics)
    {
        var manifests = new SortedSet<string>(StringComparer.Ordinal);
        if (paths.Count == 0) paths = ["datasets"];
        foreach (string path in paths)
        {
            string full = Path.GetFullPath(path, root);
            if (!RepositoryFiles.IsInside(full, root))
            {
                diagnostics.Add(new Diagnostic(path, 0, 0, Severity.Error, DiagnosticCodes.PathNotFound,
                    "this path is outside the repository; fctrain validates only datasets inside it. Pass a path under the repository root."));
                continue;
            }
            if (RepositoryFiles.Escapes(root, full) is { } escape)
            {
                diagnostics.Add(new Diagnostic(Relative(root, full), 0, 0, Severity.Error, DiagnosticCodes.LinkOutsideRepository, $"this path {escape}."));
                continue;
            }
            if (Directory.Exists(full))
            {
                var found = RepositoryFiles.Enumerate(root, full, diagnostics).Where(f => Path.GetFileName(f) == DatasetReader.ManifestName).ToList();
                manifests.UnionWith(found);
                if (found.Count == 0)
                    diagnostics.Add(new Diagnostic(Relative(root, full), 0, 0, Severity.Error, DiagnosticCodes.PathNotFound,
                        $"no {DatasetReader.ManifestName} in this folder or below it, so there is no dataset to validate. Add a {DatasetReader.ManifestName} (see schemas/dataset.v1.schema.json)."));
            }
            else if (File.Exists(full))
            {
                string? manifest = Path.GetFileName(full) == DatasetReader.ManifestName ? full : FindManifestAbove(full, root);
                if (manifest is not null) manifests.Add(manifest);
                else diagnostics.Add(new Diagnostic(Relative(root, full), 0, 0, Severity.Error, DiagnosticCodes.PathNotFound,
                    $"this file belongs to no dataset: no {DatasetReader.ManifestName} in its folder or above it. Move it into a dataset folder."));
            }
            else
            {
                diagnostics.Add(new Diagnostic(Relative(root, full), 0, 0, Severity.Error, DiagnosticCodes.PathNotFound,
                    "no such file or folder. Check the path (relative paths are taken from the repository root)."));
            }
        }
        return manifests.ToList();
    }

    private static string? FindManifestAbove(string file, string root)
    {
        for (var dir = Path.GetDirectoryName(file); dir is not null; dir = Path.GetDirectoryName(dir))
        {
            string candidate = Path.Combine(dir, DatasetReader.ManifestName);
            if (File.Exists(candidate)) return candidate;
            if (string.Equals(Path.TrimEndingDirectorySeparator(dir), Path.TrimEndingDirectorySeparator(root), StringComparison.Ordinal)) return null;
        }
        return null;
    }

    internal static string Relative(string root, string full) => Path.GetRelativePath(root, full).Replace('\\', '/');
}

/// <summary>Reads one dataset folder: its manifest, functions and conversations, and checks the rules across files.</summary>
internal sealed class DatasetReader(string root, string manifestPath, LoadOptions options)
{
    public const string ManifestName = "dataset.json";

    private readonly string _directory = Path.GetDirectoryName(manifestPath)!;

    /// <summary>The manifest as read, once <see cref="Read"/> got that far.</summary>
    public JsonRecord? ManifestRecord { get; private set; }

    public Dataset? Read(List<Diagnostic> diagnostics)
    {
        string manifestFile = DatasetLoader.Relative(root, manifestPath);
        var (read, _) = DataFileReader.Read(manifestPath, manifestFile, DataKind.Dataset, options, diagnostics);
        if (read.Count == 0) return null;
        var manifestRecord = ManifestRecord = read[0].Json;
        DatasetManifest manifest;
        using (read[0].Document) manifest = ModelReader.Manifest(read[0].Document.RootElement, new SourceSpan(manifestFile, 1, 1));

        // Everything in the folder a glob may name; snapshot files of the evaluation live beside the data.
        var files = RepositoryFiles.Enumerate(root, _directory, diagnostics)
            .Where(f => f != manifestPath && !f.EndsWith(".verified.json", StringComparison.Ordinal) && !f.EndsWith(".received.json", StringComparison.Ordinal))
            .ToList();
        var functionFiles = Expand(manifest.Functions, "/functions", files, manifestRecord, diagnostics);
        var conversationFiles = Expand(manifest.Conversations, "/conversations", files, manifestRecord, diagnostics);

        var (functions, functionsComplete) = ReadFunctions(functionFiles, diagnostics);
        var (conversations, called, conversationsComplete) = ReadConversations(conversationFiles, functions, functionsComplete, diagnostics);

        // Rules across files. Those that need every record are skipped while some file is unreadable,
        // rather than reporting consequences of an error already reported.
        var ids = new Dictionary<string, Conversation>(StringComparer.Ordinal);
        var valid = new List<Conversation>();
        foreach (var (conversation, record, ok) in conversations)
        {
            if (ids.TryAdd(conversation.Id, conversation))
            {
                if (ok) valid.Add(conversation);
                continue;
            }
            var first = ids[conversation.Id].Source;
            diagnostics.Add(record.Error("/id", DiagnosticCodes.Duplicate,
                $"conversation id '{conversation.Id}' is already used by {first.File}{(first.Line > 1 ? $" line {first.Line}" : "")}. Give each conversation of a dataset its own id."));
        }
        if (manifest.Split.EvalIds is { } evalIds && conversationsComplete)
        {
            for (int i = 0; i < evalIds.Count; i++)
                if (!ids.ContainsKey(evalIds[i]))
                    diagnostics.Add(manifestRecord.Error($"/split/eval_ids/{i}", DiagnosticCodes.UnknownEvalId,
                        $"no conversation of this dataset has the id '{evalIds[i]}', so it cannot be held out for evaluation. Fix the id or remove it."));
        }
        foreach (var function in functions.Values.Where(f => conversationsComplete && !called.Contains(f.Definition.Name)))
            diagnostics.Add(function.Record.Warning("/name", DiagnosticCodes.FunctionNeverCalled,
                $"'{function.Definition.Name}' is never called by any conversation of this dataset, so the model never learns to use it. Add conversations that call it, or remove it."));

        return new Dataset(
            manifest,
            DatasetLoader.Relative(root, _directory),
            functions.Values.Where(f => f.Valid).Select(f => f.Definition).ToList(),
            valid.Select(c => (c, manifest.Split.Assign(c.Id))).ToList());
    }

    private List<string> Expand(IReadOnlyList<string> globs, string pointer, List<string> files, JsonRecord manifest, List<Diagnostic> diagnostics)
    {
        var matched = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < globs.Count; i++)
        {
            if (Glob.LeavesFolder(globs[i]))
            {
                diagnostics.Add(manifest.Error($"{pointer}/{i}", DiagnosticCodes.GlobOutsideDataset,
                    $"the pattern '{globs[i]}' reaches outside the dataset folder ('..' or an absolute path). Patterns are relative to the folder of dataset.json and stay inside it."));
                continue;
            }
            var hits = Glob.Match(_directory, globs[i], files);
            if (hits.Count == 0)
                diagnostics.Add(manifest.Warning($"{pointer}/{i}", DiagnosticCodes.GlobMatchesNothing,
                    $"the pattern '{globs[i]}' matches no file. Fix the pattern (relative to the dataset folder) or remove it."));
            matched.UnionWith(hits);
        }
        return matched.ToList();
    }

    /// <summary>Reads and compiles the function files (in parallel), by name; duplicates are reported.
    /// Complete when every file could be read (no record left out).</summary>
    private (Dictionary<string, CompiledFunction> Functions, bool Complete) ReadFunctions(List<string> files, List<Diagnostic> diagnostics)
    {
        var perFile = new (List<CompiledFunction> Functions, List<Diagnostic> Diagnostics)[files.Count];
        int unreadable = 0;
        Parallel.For(0, files.Count, i =>
        {
            var found = new List<CompiledFunction>();
            var local = new List<Diagnostic>();
            string file = DatasetLoader.Relative(root, files[i]);
            var (records, complete) = DataFileReader.Read(files[i], file, DataKind.Function, options, local);
            if (!complete) Interlocked.Increment(ref unreadable);
            foreach (var (record, document, clean) in records)
            {
                using (document)
                {
                    var function = ModelReader.Function(document.RootElement, new SourceSpan(file, record.FirstLine, 1));
                    found.Add(FunctionRules.Compile(function, record, document.RootElement, clean, local));
                }
            }
            perFile[i] = (found, local);
        });
        var functions = new Dictionary<string, CompiledFunction>(StringComparer.Ordinal);
        foreach (var (found, local) in perFile)
        {
            diagnostics.AddRange(local);
            foreach (var function in found)
            {
                if (functions.TryAdd(function.Definition.Name, function)) continue;
                diagnostics.Add(function.Record.Error("/name", DiagnosticCodes.Duplicate,
                    $"function '{function.Definition.Name}' is already defined in {functions[function.Definition.Name].Record.File}. Rename one of them or delete the copy."));
            }
        }
        return (functions, unreadable == 0);
    }

    /// <summary>
    /// Reads and checks the conversation files (in parallel). Returns every conversation that passed the schema
    /// in file order (Valid: it also passed the rules), the functions called, and whether every record was readable.
    /// </summary>
    private (List<(Conversation Conversation, JsonRecord Record, bool Valid)> Conversations, HashSet<string> Called, bool Complete) ReadConversations(
        List<string> files, IReadOnlyDictionary<string, CompiledFunction> functions, bool functionsComplete, List<Diagnostic> diagnostics)
    {
        var perFile = new (List<(Conversation, JsonRecord, bool)> Conversations, HashSet<string> Called, List<Diagnostic> Diagnostics)[files.Count];
        int unreadable = 0;
        Parallel.For(0, files.Count, i =>
        {
            var found = new List<(Conversation, JsonRecord, bool)>();
            var called = new HashSet<string>(StringComparer.Ordinal);
            var local = new List<Diagnostic>();
            string file = DatasetLoader.Relative(root, files[i]);
            var (records, complete) = DataFileReader.Read(files[i], file, DataKind.Conversation, options, local);
            if (!complete) Interlocked.Increment(ref unreadable);
            foreach (var (record, document, clean) in records)
            {
                using (document)
                {
                    var conversation = ModelReader.Conversation(document.RootElement, new SourceSpan(file, record.FirstLine, 1));
                    int before = local.Count;
                    ConversationRules.Check(conversation, record, document.RootElement, functions, functionsComplete, called, local);
                    found.Add((conversation, record, clean && !local.Skip(before).Any(d => d.Severity == Severity.Error)));
                }
            }
            perFile[i] = (found, called, local);
        });
        var conversations = new List<(Conversation, JsonRecord, bool)>();
        var allCalled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (found, called, local) in perFile)
        {
            conversations.AddRange(found);
            allCalled.UnionWith(called);
            diagnostics.AddRange(local);
        }
        return (conversations, allCalled, unreadable == 0);
    }
}
