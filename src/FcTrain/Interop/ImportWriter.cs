using System.Text;
using System.Text.Json.Nodes;
using FcTrain.IO;

namespace FcTrain.Interop;

/// <summary>
/// Writes an imported dataset folder. Everything is first written (each file atomically) into a staging folder
/// beside the target, then moved over the target file by file once the import succeeded, and files of an earlier
/// import that this one did not write are removed: the target holds one whole import, never half of one.
/// Up to <see cref="JsonFileLimit"/> conversations become one *.json file each; past that, all go to *.jsonl parts
/// of <see cref="PartSize"/> lines, written as they fill (memory stays flat).
/// </summary>
internal sealed class ImportWriter : IDisposable
{
    public const int JsonFileLimit = 1000;
    public const int PartSize = 10_000;

    private readonly string _target, _staging;
    private readonly List<(string Id, JsonObject Json, byte[] Line)> _buffer = [];
    private readonly MemoryStream _part = new();
    private int _partLines, _parts;
    private bool _jsonl;

    public ImportWriter(string target)
    {
        _target = Path.GetFullPath(target);
        _staging = $"{Path.TrimEndingDirectorySeparator(_target)}.fctrain-import-{Environment.ProcessId}-{Guid.NewGuid():N}";
    }

    public bool Jsonl => _jsonl;

    /// <summary>Adds a conversation: its JSON, and the same as one compact line (<see cref="DatasetJson.Compact"/>).</summary>
    public void Add(string id, JsonObject conversation, byte[] line)
    {
        if (!_jsonl && _buffer.Count < JsonFileLimit) { _buffer.Add((id, conversation, line)); return; }
        if (!_jsonl)
        {
            _jsonl = true;
            foreach (var (_, _, buffered) in _buffer) AppendLine(buffered);
            _buffer.Clear();
        }
        AppendLine(line);
    }

    private void AppendLine(byte[] line)
    {
        _part.Write(line);
        _part.WriteByte((byte)'\n');
        if (++_partLines == PartSize) FlushPart();
    }

    private void FlushPart()
    {
        if (_partLines == 0) return;
        AtomicFile.WriteAllBytes(Path.Combine(_staging, "conversations", $"part-{_parts++:D5}.jsonl"), _part.GetBuffer().AsSpan(0, (int)_part.Length));
        _part.SetLength(0);
        _partLines = 0;
    }

    /// <summary>Writes the functions, the remaining conversations and the manifest, then moves everything over the target.</summary>
    public void Complete(IEnumerable<(string Name, JsonObject Json)> functions, JsonObject manifest)
    {
        FlushPart();
        // Many small files, each flushed to disk: written in parallel, the flushes overlap.
        var files = _buffer.Select(b => (Path.Combine(_staging, "conversations", $"{b.Id}.json"), b.Json))
            .Concat(functions.Select(f => (Path.Combine(_staging, "functions", $"{f.Name}.json"), f.Json)));
        Parallel.ForEach(files, file => AtomicFile.WriteAllText(file.Item1, DatasetJson.FileText(file.Item2)));
        AtomicFile.WriteAllText(Path.Combine(_staging, "dataset.json"), DatasetJson.FileText(manifest));

        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (string folder in (ReadOnlySpan<string>)["functions", "conversations"])
        {
            Directory.CreateDirectory(Path.Combine(_target, folder));
            if (!Directory.Exists(Path.Combine(_staging, folder))) continue;
            foreach (string file in Directory.EnumerateFiles(Path.Combine(_staging, folder)))
            {
                string to = Path.Combine(_target, folder, Path.GetFileName(file));
                File.Move(file, to, overwrite: true);
                written.Add(to);
            }
        }
        foreach (string folder in (ReadOnlySpan<string>)["functions", "conversations"])
            foreach (string stale in Directory.EnumerateFiles(Path.Combine(_target, folder))
                         .Where(f => (f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".jsonl", StringComparison.Ordinal)) && !written.Contains(f)).ToList())
                File.Delete(stale);
        File.Move(Path.Combine(_staging, "dataset.json"), Path.Combine(_target, "dataset.json"), overwrite: true);
    }

    /// <summary>Whether <paramref name="target"/> may receive an import: missing, empty, or an earlier import (holds dataset.json).</summary>
    public static bool CanWriteTo(string target) =>
        !Directory.Exists(target) || !Directory.EnumerateFileSystemEntries(target).Any() || File.Exists(Path.Combine(target, "dataset.json"));

    public void Dispose()
    {
        _part.Dispose();
        if (Directory.Exists(_staging)) Directory.Delete(_staging, recursive: true);
    }
}
