using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Templates;
using FcTrain.Validation;

namespace FcTrain.Interop;

public enum ImportFormat { OpenAi, Hermes, Xlam }

/// <summary>What <c>fctrain import</c> does: input files (full paths), the dataset folder to write, and the choices.</summary>
public sealed record ImportOptions(
    IReadOnlyList<string> Inputs,
    string OutDirectory,
    string WorkspaceRoot,
    ImportFormat? Format = null,
    string? Name = null,
    bool SkipInvalid = false);

/// <summary>What an import did. Written: the dataset folder was (re)written.</summary>
public sealed record ImportSummary(ImportFormat Format, bool Detected, long Records, long Imported, int Functions, bool Jsonl, bool Written);

/// <summary>
/// Converts records of OpenAI, Hermes or xLAM files into a dataset folder. Every record is converted, its functions
/// de-duplicated by name (one name with two schemas is an error naming both records), and the conversation checked with
/// the same rules as <c>fctrain validate</c>, so the folder written validates. Every record that cannot be converted
/// is reported with its file, line (or row) and reason; nothing is dropped silently. Without <see cref="ImportOptions.SkipInvalid"/>
/// any such record means nothing is written. The same input always gives the same files.
/// </summary>
public static partial class Importer
{
    private static readonly Regex IdPattern = ValidId();
    private static readonly Regex FunctionName = ValidFunctionName();

    public static ImportSummary Run(ImportOptions options, ICollection<Diagnostic> diagnostics, Action<string> log)
    {
        string Shown(string full)
        {
            string relative = Path.GetRelativePath(options.WorkspaceRoot, full).Replace('\\', '/');
            return relative.StartsWith("../", StringComparison.Ordinal) ? full : relative;
        }
        bool detected = options.Format is null;
        var format = options.Format ?? Detect(options.Inputs, Shown, log);
        var (read, columns) = Reader(format);
        string target = Path.GetFullPath(options.OutDirectory);
        if (!ImportWriter.CanWriteTo(target))
            throw FcTrainException.Error(ImportCodes.OutputNotEmpty,
                "the output folder exists, is not empty and holds no dataset.json (an earlier import). Choose a new or empty folder.", Shown(target));

        string schemas = Path.Combine(options.WorkspaceRoot, "schemas");
        string SchemaPath(string from, string file) => Path.GetRelativePath(from, Path.Combine(schemas, file)).Replace('\\', '/');
        string conversationSchema = SchemaPath(Path.Combine(target, "conversations"), "conversation.v1.schema.json");
        string functionSchema = SchemaPath(Path.Combine(target, "functions"), "function.v1.schema.json");

        var state = new State(options, read, conversationSchema, functionSchema, diagnostics);
        using var writer = new ImportWriter(target);
        foreach (string input in options.Inputs)
            foreach (var batch in InputReader.Read(input, Shown(input), columns, diagnostics).Chunk(BatchSize))
                state.Process(batch, writer);

        bool write = options.SkipInvalid ? state.Imported > 0 : diagnostics.All(d => d.Severity != Severity.Error);
        if (write)
        {
            string name = DatasetName(options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(target)));
            string description = $"Imported by fctrain import from {FormatName(format)} records: {string.Join(", ", options.Inputs.Select(Path.GetFileName))}.";
            // Only the functions some imported conversation offers: those of rejected records go with them.
            writer.Complete(
                state.Used.Order(StringComparer.Ordinal).Select(f => (f, DatasetJson.Function(state.Functions[f].Definition, functionSchema))),
                DatasetJson.Manifest(name, description, Path.GetRelativePath(target, Path.Combine(schemas, "dataset.v1.schema.json")).Replace('\\', '/'), writer.Jsonl));
        }
        return new ImportSummary(format, detected, state.Records, state.Imported, state.Used.Count, writer.Jsonl, write);
    }

    /// <summary>Records converted and checked together: in parallel where records are independent, in input order where they are not.</summary>
    private const int BatchSize = 128;

    /// <summary>One record on its way through <see cref="State.Process"/>.</summary>
    private sealed class Work(InputRecord record)
    {
        public InputRecord Record { get; } = record;
        public ImportedRecord? Converted;
        public (string Code, string Message)? Problem;
        public List<(FunctionDefinition Function, string Canonical, (CompiledFunction? Compiled, string? Error) Compiled)> Functions = [];
        public string Id = "";
        public UInt128 IdKey;
        public List<string> Offered = [];
        public JsonObject? Json;
        public byte[]? Bytes;   // Json as one compact line, as checked
        public List<Diagnostic> Rules = [];
    }

    /// <summary>What an import has seen so far: the functions by name (first definition wins), the ids, the counts.</summary>
    private sealed class State(ImportOptions options, Func<JsonObject, SourceSpan, ImportedRecord> read, string conversationSchema, string functionSchema, ICollection<Diagnostic> diagnostics)
    {
        public Dictionary<string, CompiledFunction> Functions { get; } = new(StringComparer.Ordinal);
        public HashSet<string> Used { get; } = new(StringComparer.Ordinal);
        public long Records, Imported;

        private readonly Dictionary<string, (string Canonical, string Where)> _firstDefined = new(StringComparer.Ordinal);
        // Each imported id, as the first 128 bits of its SHA-256 (no two distinct ids of any real input collide), and
        // the record it came from: about 50 bytes per record, the one part of the state that grows with the input.
        private readonly Dictionary<UInt128, (int File, int Line, int Column, long Row)> _ids = [];
        private readonly List<string> _files = [];
        // A function's canonical form and compiled schema, once per distinct definition, in parallel with the records that list it.
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<(string Canonical, (CompiledFunction?, string?) Compiled)>> _definitions = new(StringComparer.Ordinal);
        private int _errors;

        public void Process(InputRecord[] batch, ImportWriter writer)
        {
            var work = batch.Select(r => new Work(r)).ToArray();
            Parallel.ForEach(work, Convert);
            foreach (var w in work) Register(w);
            Parallel.ForEach(work, Check);
            foreach (var w in work) Finish(w, writer);
        }

        /// <summary>Parallel: the format's conversion, and the schemas of the record's functions.</summary>
        private void Convert(Work w)
        {
            try { w.Converted = read(w.Record.Json, new SourceSpan(w.Record.File, w.Record.Line, w.Record.Column)); }
            catch (RecordException e) { w.Problem = (e.Code, e.Message); return; }
            foreach (var function in w.Converted.Functions)
            {
                // Most records repeat definitions seen before, written the same way: their text finds the canonical
                // form and the compiled schema computed for the first of them.
                var entry = _definitions.GetOrAdd(function.Name + "\n" + function.Parameters.ToJsonString(),
                    _ => new Lazy<(string, (CompiledFunction?, string?))>(() => (Canonical(function), Compile(function, functionSchema))));
                w.Functions.Add((function, entry.Value.Canonical, entry.Value.Compiled));
            }
            w.Id = Id(w.Converted.Id) ?? Hash(w.Record.Json);
            w.IdKey = IdKey(w.Id);
        }

        /// <summary>In order: the record's functions against those seen before (one name, one schema).</summary>
        private void Register(Work w)
        {
            if (w.Problem is not null) return;
            foreach (var (function, canonical, compiled) in w.Functions)
            {
                if (_firstDefined.TryGetValue(function.Name, out var first))
                {
                    if (first.Canonical != canonical)
                    {
                        w.Problem = (ImportCodes.ConflictingFunction,
                            $"the function '{function.Name}' is defined with other parameters here than by the record at {first.Where}: {canonical} here, {first.Canonical} there. Rename one of them or make them equal.");
                        return;
                    }
                }
                else
                {
                    var (result, error) = compiled;
                    if (result is null) { w.Problem = (ImportCodes.RecordShape, error!); return; }
                    Functions[function.Name] = result;
                    _firstDefined[function.Name] = (canonical, w.Record.Position);
                }
                if (!w.Offered.Contains(function.Name)) w.Offered.Add(function.Name);
            }
        }

        /// <summary>Parallel: the conversation as its file's JSON, checked with the rules of <c>fctrain validate</c>.</summary>
        private void Check(Work w)
        {
            if (w.Problem is not null) return;
            var source = new SourceSpan(w.Record.File, w.Record.Line, w.Record.Column);
            var conversation = new Conversation(w.Id, w.Offered, w.Converted!.Messages, source);
            w.Json = DatasetJson.Conversation(conversation, conversationSchema);
            w.Bytes = JsonSerializer.SerializeToUtf8Bytes(w.Json, DatasetJson.Compact);
            if (JsonRecord.Parse(w.Record.File, w.Bytes, 1, w.Rules) is var (jsonRecord, document))
                using (document)
                    ConversationRules.Check(conversation, jsonRecord, document.RootElement, Functions, functionsComplete: true, new HashSet<string>(), w.Rules);
        }

        /// <summary>In order: report, claim the id, write.</summary>
        private void Finish(Work w, ImportWriter writer)
        {
            Records++;
            if (w.Problem is var (code, message)) { Report(w.Record, code, message); return; }
            bool failed = false;
            foreach (var rule in w.Rules)
            {
                string mapped = rule.Severity == Severity.Warning ? rule.Code
                    : rule.Code switch
                    {
                        DiagnosticCodes.CallNotOffered => ImportCodes.CallNotListed,
                        DiagnosticCodes.InvalidArguments => ImportCodes.InvalidArguments,
                        _ => ImportCodes.RuleViolation,
                    };
                string suffix = mapped == ImportCodes.RuleViolation ? $" ({rule.Code})" : "";
                Report(w.Record, mapped, $"as conversation '{w.Id}': {rule.Message}{suffix}", rule.Severity);
                failed |= rule.Severity == Severity.Error;
            }
            if (failed) return;
            if (_files.Count == 0 || _files[^1] != w.Record.File) _files.Add(w.Record.File);
            if (!_ids.TryAdd(w.IdKey, (_files.Count - 1, w.Record.Line, w.Record.Column, w.Record.Row)))
            {
                var first = _ids[w.IdKey];
                Report(w.Record, ImportCodes.DuplicateId,
                    $"the id '{w.Id}' is already used by the record at {InputRecord.Cite(_files[first.File], first.Line, first.Column, first.Row)}. Give each record its own id.");
                return;
            }
            Imported++;
            Used.UnionWith(w.Offered);
            if (_errors == 0 || options.SkipInvalid) writer.Add(w.Id, w.Json!, w.Bytes!);
        }

        private void Report(InputRecord record, string code, string message, Severity severity = Severity.Error)
        {
            if (severity == Severity.Error) _errors++;
            diagnostics.Add(new Diagnostic(record.File, record.Line, record.Column, severity, code,
                (record.Line > 0 ? "" : $"{record.Where}: ") + message + (severity == Severity.Error && options.SkipInvalid ? " The record is skipped." : "")));
        }
    }

    /// <summary>A function a record lists, compiled: its name and schema checked as fctrain requires; else why not.
    /// Messages about calls to it name the file it is written to.</summary>
    private static (CompiledFunction?, string?) Compile(FunctionDefinition function, string schemaPath)
    {
        string where = $"functions/{function.Name}.json";
        if (!FunctionName.IsMatch(function.Name))
            return (null, $"the function name '{function.Name}' is not an identifier (letters, digits and '_', at most 64 characters, not starting with a digit), as fctrain requires.");
        if (function.Parameters["type"] is not JsonValue t || !t.TryGetValue(out string? type) || type != "object")
            return (null, $"the parameters of '{function.Name}' are not a JSON Schema with \"type\": \"object\".");
        var definition = function.Description.Length > 0 ? function : function with { Description = function.Name };
        var local = new List<Diagnostic>();
        if (JsonRecord.Parse(where, JsonSerializer.SerializeToUtf8Bytes(DatasetJson.Function(definition, schemaPath)), 1, local) is not var (record, document))
            return (null, $"the function '{function.Name}' cannot be written as JSON.");
        using (document)
        {
            var compiled = FunctionRules.Compile(definition, record, document.RootElement, clean: true, local);
            return local.Count > 0 || compiled.Arguments is null
                ? (null, $"the parameters of '{function.Name}' are not a valid JSON Schema: {string.Join("; ", local.Select(d => d.Message))}")
                : (compiled, null);
        }
    }

    private static string Canonical(FunctionDefinition function) =>
        ValueSerializer.Serialize(ValueSerializer.Canonical(function.Parameters), Serialization.Json);

    /// <summary>The record's own id when the schema accepts it (else with the other characters as '-'), null when it has none.</summary>
    private static string? Id(string? own)
    {
        if (own is null) return null;
        if (IdPattern.IsMatch(own)) return own;
        string cleaned = Regex.Replace(own, "[^A-Za-z0-9._-]", "-").TrimStart('.', '_', '-');
        return cleaned.Length > 0 && IdPattern.IsMatch(cleaned) ? cleaned : null;
    }

    private static UInt128 IdKey(string id)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(id), hash);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(hash);
    }

    /// <summary>A stable id from the record's content: the first 16 hex digits of the SHA-256 of its JSON.</summary>
    private static string Hash(JsonObject record) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(record.ToJsonString())))[..16];

    private static string DatasetName(string folder)
    {
        string name = Regex.Replace(folder.ToLowerInvariant(), "[^a-z0-9._-]", "-").TrimStart('.', '_', '-');
        return name.Length == 0 ? "imported" : name[..Math.Min(name.Length, 64)];
    }

    public static string FormatName(ImportFormat format) => format switch
    {
        ImportFormat.OpenAi => "openai",
        ImportFormat.Hermes => "hermes",
        _ => "xlam",
    };

    public static ImportFormat? ParseFormat(string? name) => name switch
    {
        "openai" => ImportFormat.OpenAi,
        "hermes" => ImportFormat.Hermes,
        "xlam" => ImportFormat.Xlam,
        _ => null,
    };

    private static (Func<JsonObject, SourceSpan, ImportedRecord> Read, IReadOnlyList<string> Columns) Reader(ImportFormat format) => format switch
    {
        ImportFormat.OpenAi => (OpenAiFormat.Read, OpenAiFormat.Columns),
        ImportFormat.Hermes => (HermesFormat.Read, HermesFormat.Columns),
        _ => (XlamFormat.Read, XlamFormat.Columns),
    };

    /// <summary>The format of the first record of the inputs, from its fields; says which it chose and why.</summary>
    private static ImportFormat Detect(IReadOnlyList<string> inputs, Func<string, string> shown, Action<string> log)
    {
        foreach (string input in inputs)
        {
            var ignored = new List<Diagnostic>();
            var first = InputReader.Read(input, shown(input), null, ignored).FirstOrDefault();
            if (first is null) continue;
            var (format, why) = Detect(first.Json);
            if (format is { } found)
            {
                log($"format {FormatName(found)} (detected: {shown(input)} {first.Where} has {why}; pass --format to choose)");
                return found;
            }
            throw FcTrainException.Error(ImportCodes.FormatNotDetected,
                $"cannot tell the format of this record (fields: {string.Join(", ", first.Json.Select(p => p.Key))}): expected \"query\"/\"tools\"/\"answers\" (xlam), \"conversations\" (hermes) or \"messages\" (openai or hermes). Pass --format.",
                first.File, first.Line, first.Column);
        }
        throw FcTrainException.Error(ImportCodes.FormatNotDetected, "no readable record in the inputs to detect the format from. Pass --format, or check the files.");
    }

    public static (ImportFormat? Format, string Why) Detect(JsonObject record)
    {
        if (record.ContainsKey("query") && record.ContainsKey("answers")) return (ImportFormat.Xlam, "\"query\" and \"answers\"");
        if (record["conversations"] is JsonArray) return (ImportFormat.Hermes, "\"conversations\"");
        if (record["messages"] is not JsonArray messages) return (null, "");
        foreach (var m in messages.OfType<JsonObject>())
        {
            if (m.ContainsKey("from")) return (ImportFormat.Hermes, "\"messages\" with \"from\"/\"value\" turns");
            string role = m["role"] is JsonValue rv && rv.TryGetValue(out string? r) ? r : "";
            if (role is "human" or "gpt" or "model") return (ImportFormat.Hermes, $"\"messages\" with the role '{role}'");
            if (m["content"] is JsonValue v && v.TryGetValue(out string? text) && (text.Contains("<tool_call>", StringComparison.Ordinal) || text.Contains("<tools>", StringComparison.Ordinal)))
                return (ImportFormat.Hermes, "\"messages\" with <tools>/<tool_call> markup");
        }
        return (ImportFormat.OpenAi, "\"messages\" with OpenAI roles and fields");
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex ValidId();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ValidFunctionName();
}
