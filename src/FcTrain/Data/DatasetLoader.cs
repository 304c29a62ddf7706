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
            if (new DatasetReader(root, manifest, options).Read(diagnostics) is not { } dataset) continue;
            if (names.TryAdd(dataset.Manifest.Name, dataset.Manifest.Source.File)) datasets.Add(dataset);
            else diagnostics.Add(new Diagnostic(dataset.Manifest.Source.File, 1, 1, Severity.Error, DiagnosticCodes.Duplicate,
                $"/name: dataset name '{dataset.Manifest.Name}' is already used by {names[dataset.Manifest.Name]}. Give each dataset its own name."));
        }
        var sorted = diagnostics
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
            if (Directory.Exists(full))
            {
                int before = manifests.Count;
                manifests.UnionWith(Directory.EnumerateFiles(full, DatasetReader.ManifestName, SearchOption.AllDirectories));
                if (manifests.Count == before)
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

    public Dataset? Read(List<Diagnostic> diagnostics)
    {
        string manifestFile = DatasetLoader.Relative(root, manifestPath);
        var read = DataFileReader.Read(manifestPath, manifestFile, DataKind.Dataset, options, diagnostics);
        if (read.Count == 0) return null;
        var (manifestRecord, manifestDocument) = read[0];
        DatasetManifest manifest;
        using (manifestDocument) manifest = ModelReader.Manifest(manifestDocument.RootElement, new SourceSpan(manifestFile, 1, 1));

        // Everything in the folder a glob may name; snapshot files of the evaluation live beside the data.
        var files = Directory.EnumerateFiles(_directory, "*", SearchOption.AllDirectories)
            .Where(f => f != manifestPath && !f.EndsWith(".verified.json", StringComparison.Ordinal) && !f.EndsWith(".received.json", StringComparison.Ordinal))
            .ToList();
        var functionFiles = Expand(manifest.Functions, "/functions", files, manifestRecord, diagnostics);
        var conversationFiles = Expand(manifest.Conversations, "/conversations", files, manifestRecord, diagnostics);

        var functions = ReadFunctions(functionFiles, diagnostics);
        var (conversations, called) = ReadConversations(conversationFiles, functions, diagnostics);

        // Rules across files.
        var ids = new Dictionary<string, Conversation>(StringComparer.Ordinal);
        var unique = new List<Conversation>();
        foreach (var (conversation, record) in conversations)
        {
            if (ids.TryAdd(conversation.Id, conversation)) { unique.Add(conversation); continue; }
            var first = ids[conversation.Id].Source;
            diagnostics.Add(record.Error("/id", DiagnosticCodes.Duplicate,
                $"conversation id '{conversation.Id}' is already used by {first.File}{(first.Line > 1 ? $" line {first.Line}" : "")}. Give each conversation of a dataset its own id."));
        }
        if (manifest.Split.EvalIds is { } evalIds)
        {
            for (int i = 0; i < evalIds.Count; i++)
                if (!ids.ContainsKey(evalIds[i]))
                    diagnostics.Add(manifestRecord.Error($"/split/eval_ids/{i}", DiagnosticCodes.UnknownEvalId,
                        $"no conversation of this dataset has the id '{evalIds[i]}', so it cannot be held out for evaluation. Fix the id or remove it."));
        }
        foreach (var function in functions.Values.Where(f => !called.Contains(f.Definition.Name)))
            diagnostics.Add(function.Record.Warning("/name", DiagnosticCodes.FunctionNeverCalled,
                $"'{function.Definition.Name}' is never called by any conversation of this dataset, so the model never learns to use it. Add conversations that call it, or remove it."));

        return new Dataset(
            manifest,
            DatasetLoader.Relative(root, _directory),
            functions.Values.Where(f => f.Arguments is not null).Select(f => f.Definition).ToList(),
            unique.Select(c => (c, manifest.Split.Assign(c.Id))).ToList());
    }

    private List<string> Expand(IReadOnlyList<string> globs, string pointer, List<string> files, JsonRecord manifest, List<Diagnostic> diagnostics)
    {
        var matched = new SortedSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < globs.Count; i++)
        {
            var hits = Glob.Match(_directory, globs[i], files);
            if (hits.Count == 0)
                diagnostics.Add(manifest.Warning($"{pointer}/{i}", DiagnosticCodes.GlobMatchesNothing,
                    $"the pattern '{globs[i]}' matches no file. Fix the pattern (relative to the dataset folder) or remove it."));
            matched.UnionWith(hits);
        }
        return matched.ToList();
    }

    /// <summary>Reads and compiles the function files (in parallel), by name; duplicates are reported.</summary>
    private Dictionary<string, CompiledFunction> ReadFunctions(List<string> files, List<Diagnostic> diagnostics)
    {
        var perFile = new (List<CompiledFunction> Functions, List<Diagnostic> Diagnostics)[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var found = new List<CompiledFunction>();
            var local = new List<Diagnostic>();
            string file = DatasetLoader.Relative(root, files[i]);
            foreach (var (record, document) in DataFileReader.Read(files[i], file, DataKind.Function, options, local))
            {
                using (document)
                {
                    var function = ModelReader.Function(document.RootElement, new SourceSpan(file, record.FirstLine, 1));
                    found.Add(FunctionRules.Compile(function, record, document.RootElement, local));
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
        return functions;
    }

    /// <summary>Reads and checks the conversation files (in parallel); returns the valid conversations in file order and the functions called.</summary>
    private (List<(Conversation, JsonRecord)> Conversations, HashSet<string> Called) ReadConversations(
        List<string> files, IReadOnlyDictionary<string, CompiledFunction> functions, List<Diagnostic> diagnostics)
    {
        var perFile = new (List<(Conversation, JsonRecord)> Conversations, HashSet<string> Called, List<Diagnostic> Diagnostics)[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var found = new List<(Conversation, JsonRecord)>();
            var called = new HashSet<string>(StringComparer.Ordinal);
            var local = new List<Diagnostic>();
            string file = DatasetLoader.Relative(root, files[i]);
            foreach (var (record, document) in DataFileReader.Read(files[i], file, DataKind.Conversation, options, local))
            {
                using (document)
                {
                    var conversation = ModelReader.Conversation(document.RootElement, new SourceSpan(file, record.FirstLine, 1));
                    int before = local.Count;
                    ConversationRules.Check(conversation, record, document.RootElement, functions, called, local);
                    if (!local.Skip(before).Any(d => d.Severity == Severity.Error)) found.Add((conversation, record));
                }
            }
            perFile[i] = (found, called, local);
        });
        var conversations = new List<(Conversation, JsonRecord)>();
        var allCalled = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (found, called, local) in perFile)
        {
            conversations.AddRange(found);
            allCalled.UnionWith(called);
            diagnostics.AddRange(local);
        }
        return (conversations, allCalled);
    }
}
