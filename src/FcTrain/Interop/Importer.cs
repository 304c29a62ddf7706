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

        var functions = new Dictionary<string, CompiledFunction>(StringComparer.Ordinal);
        var firstDefined = new Dictionary<string, (string Canonical, string Where)>(StringComparer.Ordinal);
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        var called = new HashSet<string>(StringComparer.Ordinal);
        long records = 0, imported = 0;
        int errors = 0;
        using var writer = new ImportWriter(target);
        foreach (string input in options.Inputs)
        {
            string shown = Shown(input);
            foreach (var record in InputReader.Read(input, shown, columns, diagnostics))
            {
                records++;
                string where = $"{record.File}({(record.Line > 0 ? $"{record.Line},{record.Column}" : $"row {record.Row}")})";
                void Report(string code, string message, Severity severity = Severity.Error)
                {
                    if (severity == Severity.Error) errors++;
                    diagnostics.Add(new Diagnostic(record.File, record.Line, record.Column, severity, code,
                        (record.Line > 0 ? "" : $"{record.Where}: ") + message + (severity == Severity.Error && options.SkipInvalid ? " The record is skipped." : "")));
                }
                var source = new SourceSpan(record.File, record.Line, record.Column);
                ImportedRecord converted;
                try { converted = read(record.Json, source); }
                catch (RecordException e) { Report(e.Code, e.Message); continue; }

                string id = Id(converted.Id) ?? Hash(record.Json);
                if (ids.TryGetValue(id, out string? first))
                {
                    Report(ImportCodes.DuplicateId, $"the id '{id}' is already used by the record at {first}. Give each record its own id.");
                    continue;
                }

                // The record's functions: new ones are compiled and kept only if the record is imported.
                var added = new List<string>();
                var offered = new List<string>();
                string? problem = null, problemCode = null;
                foreach (var function in converted.Functions)
                {
                    if (offered.Contains(function.Name) && firstDefined[function.Name].Canonical == Canonical(function)) continue;
                    var (code, message) = Define(function, where, functions, firstDefined, added, functionSchema);
                    if (code is not null) { (problemCode, problem) = (code, message); break; }
                    offered.Add(function.Name);
                }
                if (problem is not null)
                {
                    Rollback();
                    Report(problemCode!, problem);
                    continue;
                }

                var conversation = new Conversation(id, offered, converted.Messages, source);
                var json = DatasetJson.Conversation(conversation, conversationSchema);
                var rules = new List<Diagnostic>();
                if (JsonRecord.Parse(record.File, JsonSerializer.SerializeToUtf8Bytes(json, DatasetJson.Compact), 1, rules) is var (jsonRecord, document))
                    using (document)
                        ConversationRules.Check(conversation, jsonRecord, document.RootElement, functions, functionsComplete: true, called, rules);
                bool failed = false;
                foreach (var rule in rules)
                {
                    string code = rule.Severity == Severity.Warning ? rule.Code
                        : rule.Code switch
                        {
                            DiagnosticCodes.CallNotOffered => ImportCodes.CallNotListed,
                            DiagnosticCodes.InvalidArguments => ImportCodes.InvalidArguments,
                            _ => ImportCodes.RuleViolation,
                        };
                    string suffix = code == ImportCodes.RuleViolation ? $" ({rule.Code})" : "";
                    Report(code, $"as conversation '{id}': {rule.Message}{suffix}", rule.Severity);
                    failed |= rule.Severity == Severity.Error;
                }
                if (failed) { Rollback(); continue; }

                ids[id] = where;
                imported++;
                if (errors == 0 || options.SkipInvalid) writer.Add(id, json);

                void Rollback()
                {
                    foreach (string name in added) { functions.Remove(name); firstDefined.Remove(name); }
                }
            }
        }
        bool write = options.SkipInvalid ? imported > 0 : diagnostics.All(d => d.Severity != Severity.Error);
        if (write)
        {
            string name = DatasetName(options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(target)));
            string description = $"Imported by fctrain import from {FormatName(format)} records: {string.Join(", ", options.Inputs.Select(Path.GetFileName))}.";
            writer.Complete(
                functions.Values.OrderBy(f => f.Definition.Name, StringComparer.Ordinal).Select(f => (f.Definition.Name, DatasetJson.Function(f.Definition, functionSchema))),
                DatasetJson.Manifest(name, description, Path.GetRelativePath(target, Path.Combine(schemas, "dataset.v1.schema.json")).Replace('\\', '/'), writer.Jsonl));
        }
        return new ImportSummary(format, detected, records, imported, functions.Count, writer.Jsonl, write);
    }

    /// <summary>Adds a function the record lists: checks its name and schema, and that a function of that name already seen has the same parameters.</summary>
    private static (string? Code, string? Message) Define(FunctionDefinition function, string where, Dictionary<string, CompiledFunction> functions,
        Dictionary<string, (string Canonical, string Where)> firstDefined, List<string> added, string schemaPath)
    {
        string canonical = Canonical(function);
        if (firstDefined.TryGetValue(function.Name, out var first))
            return first.Canonical == canonical ? (null, null)
                : (ImportCodes.ConflictingFunction,
                    $"the function '{function.Name}' is defined with other parameters here than by the record at {first.Where}: {canonical} here, {first.Canonical} there. Rename one of them or make them equal.");
        if (!FunctionName.IsMatch(function.Name))
            return (ImportCodes.RecordShape, $"the function name '{function.Name}' is not an identifier (letters, digits and '_', at most 64 characters, not starting with a digit), as fctrain requires.");
        if (function.Parameters["type"] is not JsonValue t || !t.TryGetValue(out string? type) || type != "object")
            return (ImportCodes.RecordShape, $"the parameters of '{function.Name}' are not a JSON Schema with \"type\": \"object\".");
        var definition = function.Description.Length > 0 ? function : function with { Description = function.Name };
        var json = DatasetJson.Function(definition, schemaPath);
        var local = new List<Diagnostic>();
        if (JsonRecord.Parse(where, JsonSerializer.SerializeToUtf8Bytes(json), 1, local) is not var (record, document))
            return (ImportCodes.RecordShape, $"the function '{function.Name}' cannot be written as JSON.");
        using (document)
        {
            var compiled = FunctionRules.Compile(definition, record, document.RootElement, clean: true, local);
            if (local.Count > 0 || compiled.Arguments is null)
                return (ImportCodes.RecordShape, $"the parameters of '{function.Name}' are not a valid JSON Schema: {string.Join("; ", local.Select(d => d.Message))}");
            functions[function.Name] = compiled;
        }
        firstDefined[function.Name] = (canonical, where);
        added.Add(function.Name);
        return (null, null);
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
