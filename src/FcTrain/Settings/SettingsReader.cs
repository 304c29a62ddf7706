using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Settings;

/// <summary>Where an effective value came from.</summary>
public enum SettingSource { Default, File, Flag }

/// <summary>A value given on the command line (a flag or <c>--set KEY=VALUE</c>) or as an MSBuild property.</summary>
/// <param name="Origin">What the user typed, for messages: <c>--epochs</c>.</param>
public sealed record SettingOverride(string Key, string Value, string Origin);

/// <summary>The settings every command runs with, where each value came from, and the workspace they belong to.</summary>
public sealed record EffectiveSettings(FcTrainSettings Value, IReadOnlyDictionary<string, SettingSource> Sources, Workspace Workspace, string? ConfigFile)
{
    public SettingSource SourceOf(string key) => Sources.TryGetValue(key, out var s) ? s : SettingSource.Default;

    public static string Name(SettingSource source) => source switch
    {
        SettingSource.File => SettingsReader.FileName,
        SettingSource.Flag => "flag",
        _ => "default",
    };
}

/// <summary>
/// The one reader of settings: defaults (<see cref="FcTrainSettings"/>) &lt; <c>fctrain.json</c> &lt; flags and MSBuild
/// properties. The file and the flags are checked against <c>schemas/fctrain.v1.schema.json</c>; every problem of the
/// file is a canonical diagnostic at its key's line (all of them, nothing applied), a bad flag a usage error naming it.
/// Paths from the file and the defaults are relative to the workspace root; paths from flags to the current directory.
/// </summary>
public static class SettingsReader
{
    public const string FileName = "fctrain.json", InvalidFile = "FCT0301", InvalidFlag = "FCT0302";

    static readonly JsonDocumentOptions ParseOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        using var stream = typeof(SettingsReader).Assembly.GetManifestResourceStream("schemas/fctrain.v1.schema.json")
            ?? throw new InvalidOperationException("fctrain.v1.schema.json is not embedded in FcTrain.dll");
        return JsonSchema.FromText(new StreamReader(stream).ReadToEnd());
    });

    /// <summary>
    /// Reads the settings of <paramref name="workspace"/>: <paramref name="configFile"/> (relative to
    /// <paramref name="currentDirectory"/>), else the workspace's <c>fctrain.json</c> when there is one; then the overrides.
    /// </summary>
    public static EffectiveSettings Read(Workspace workspace, string? configFile, IReadOnlyList<SettingOverride> overrides, string currentDirectory)
    {
        var settings = new FcTrainSettings();
        var sources = new Dictionary<string, SettingSource>();
        string? file = configFile is not null ? Path.GetFullPath(configFile, currentDirectory)
            : File.Exists(workspace.ConfigFile) ? workspace.ConfigFile : null;
        if (file is not null)
        {
            if (!File.Exists(file))
                throw FcTrainException.Error(InvalidFile, "the settings file does not exist. Name an existing fctrain.json with --config (or FcTrainConfig), or leave it out.", configFile!);
            var (values, errors) = ReadFile(file);
            if (errors.Count > 0) throw new FcTrainException(errors);
            foreach (var (setting, value) in values)
            {
                settings = setting.Set(settings, Resolve(setting, value, workspace.Root));
                sources[setting.Key] = SettingSource.File;
            }
        }
        foreach (var o in overrides)
        {
            var setting = SettingsTable.Find(o.Key)
                ?? throw FcTrainException.Usage(InvalidFlag, $"{o.Origin}: '{o.Key}' is not a setting. The keys are those of fctrain.json, e.g. train.epochs or lora.r (see 'fctrain settings').");
            object value = ParseFlag(setting, o);
            settings = setting.Set(settings, Resolve(setting, value, currentDirectory));
            sources[setting.Key] = SettingSource.Flag;
        }
        foreach (var setting in SettingsTable.All.Where(s => s.Kind == SettingKind.Path && !sources.ContainsKey(s.Key)))
            if (setting.Get(settings) is { } path) settings = setting.Set(settings, Resolve(setting, path, workspace.Root));
        return new EffectiveSettings(settings, sources, workspace, file);
    }

    /// <summary>The values the file sets, or every problem of it with line and column.</summary>
    public static (IReadOnlyList<(Setting Setting, object Value)> Values, IReadOnlyList<Diagnostic> Errors) ReadFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.AsSpan().StartsWith(Encoding.UTF8.Preamble)) bytes = bytes[3..];   // a BOM, as data files accept
        JsonDocument document;
        try { document = JsonDocument.Parse(bytes, ParseOptions); }
        catch (JsonException e)
        {
            return ([], [Error(path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1,
                $"{FileName} is not valid JSON: {e.Message.Split(" Path:")[0].Split(" LineNumber:")[0]} Fix the syntax at this position.")]);
        }
        using (document)
        try
        {
            var positions = JsonPositions.Of(bytes);
            (int, int) At(string pointer) => positions.TryGetValue(pointer, out var p) ? p : (1, 1);
            var errors = SchemaErrors(document.RootElement)
                .Select(e =>
                {
                    var (line, column) = At(e.Pointer);
                    string where = e.Pointer.Length == 0 ? "the file" : $"'{e.Pointer}'";
                    return Error(path, line, column, $"{where} does not match schemas/fctrain.v1.schema.json: {e.Message}. See the schema for the allowed keys and values.");
                })
                .ToList();
            var values = new List<(Setting, object)>();
            if (errors.Count > 0) return (values, errors);
            foreach (var setting in SettingsTable.All)
            {
                string pointer = "/" + setting.Key.Replace('.', '/');
                if (Find(document.RootElement, setting.Key) is not { } element) continue;
                if (FromJson(setting, element) is { } value) values.Add((setting, value));
                else
                {
                    var (line, column) = At(pointer);
                    errors.Add(Error(path, line, column, $"'{pointer}' is {element.GetRawText()}, out of range: {Range(setting.Kind)}."));
                }
            }
            return (values, errors);
        }
        catch (InvalidOperationException)   // a string with a lone UTF-16 surrogate escape ("\ud800") cannot be read as text
        {
            return ([], [Error(path, 1, 1, $"{FileName} holds a string with an invalid escape (a lone UTF-16 surrogate such as \\ud800). Write the character itself or a complete surrogate pair.")]);
        }
    }

    static IEnumerable<(string Pointer, string Message)> SchemaErrors(JsonElement instance)
    {
        var results = Schema.Value.Evaluate(instance, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return [];
        var errors = (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => (Pointer: d.InstanceLocation.ToString(), Message: e.Value)))
            .Distinct()
            .ToList();
        return errors.Count > 0 ? errors : [("", "it does not match the schema")];
    }

    static JsonElement? Find(JsonElement root, string key)
    {
        JsonElement current = root;
        foreach (string part in key.Split('.'))
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current)) return null;
        return current;
    }

    /// <summary>The typed value of a schema-checked element; null when it does not fit the type (int32, finite double).</summary>
    static object? FromJson(Setting setting, JsonElement e) => setting.Kind switch
    {
        SettingKind.Int => e.TryGetInt32(out int i) ? i : null,
        SettingKind.Number => e.TryGetDouble(out double d) && double.IsFinite(d) ? d : null,
        SettingKind.Bool => e.GetBoolean(),
        SettingKind.StringList => e.EnumerateArray().Select(x => x.GetString()!).ToArray(),
        _ => e.GetString()!,
    };

    static string Range(SettingKind kind) => kind switch
    {
        SettingKind.Int => "an integer from -2147483648 to 2147483647",
        SettingKind.Number => "a finite number",
        _ => "a value of the schema's type",
    };

    /// <summary>A flag's text as the setting's type, checked against the same schema as the file.</summary>
    static object ParseFlag(Setting setting, SettingOverride o)
    {
        string text = o.Value.Trim();
        JsonNode? node = setting.Kind switch
        {
            SettingKind.Int => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long l) ? JsonValue.Create(l) : null,
            SettingKind.Number => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? JsonValue.Create(d) : null,
            SettingKind.Bool => text.ToLowerInvariant() switch { "true" or "" => JsonValue.Create(true), "false" => JsonValue.Create(false), _ => null },
            SettingKind.StringList => new JsonArray([.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => (JsonNode?)JsonValue.Create(v))]),
            _ => JsonValue.Create(o.Value),
        };
        string expected = setting.Kind switch
        {
            SettingKind.Int => "an integer", SettingKind.Number => "a number", SettingKind.Bool => "true or false", _ => "a value",
        };
        if (node is null) throw FcTrainException.Usage(InvalidFlag, $"{o.Origin} '{o.Value}': {setting.Key} takes {expected} (flag {setting.Flag}, MSBuild property {setting.Property}).");

        // The same schema as the file, on a document holding only this key.
        var parts = setting.Key.Split('.');
        JsonNode document = node;
        for (int i = parts.Length - 1; i >= 0; i--) document = new JsonObject { [parts[i]] = document };
        using var parsed = JsonDocument.Parse(document.ToJsonString());
        var error = SchemaErrors(parsed.RootElement).FirstOrDefault();
        if (error.Message is not null)
            throw FcTrainException.Usage(InvalidFlag, $"{o.Origin} '{o.Value}': {error.Message} (setting {setting.Key}: flag {setting.Flag}, MSBuild property {setting.Property}; schemas/fctrain.v1.schema.json).");
        return FromJson(setting, Find(parsed.RootElement, setting.Key)!.Value)
            ?? throw FcTrainException.Usage(InvalidFlag, $"{o.Origin} '{o.Value}': {setting.Key} must be {Range(setting.Kind)}.");
    }

    /// <summary>Relative paths against <paramref name="baseDirectory"/>; a model name stays a name unless it is a folder there.</summary>
    static object Resolve(Setting setting, object value, string baseDirectory) => setting.Kind switch
    {
        SettingKind.Path => Path.GetFullPath((string)value, baseDirectory),
        SettingKind.Model when Directory.Exists(Path.Combine(baseDirectory, (string)value)) => Path.GetFullPath((string)value, baseDirectory),
        _ => value,
    };

    static Diagnostic Error(string path, int line, int column, string message) =>
        new(path, line, column, Severity.Error, InvalidFile, message);
}

/// <summary>JSON pointer → 1-based (line, column) of the value's first character, from one reader pass.</summary>
internal static class JsonPositions
{
    public static Dictionary<string, (int Line, int Column)> Of(byte[] utf8)
    {
        var lineStarts = new List<int> { 0 };
        for (int i = 0; i < utf8.Length; i++) if (utf8[i] == (byte)'\n') lineStarts.Add(i + 1);
        (int, int) At(long offset)
        {
            int line = lineStarts.BinarySearch((int)offset);
            if (line < 0) line = ~line - 1;
            int column = Encoding.UTF8.GetCharCount(utf8, lineStarts[line], (int)offset - lineStarts[line]) + 1;
            return (line + 1, column);
        }

        var result = new Dictionary<string, (int, int)>();
        var path = new Stack<(string Prefix, int Index, bool IsArray)>();
        string? pendingName = null;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingName = reader.GetString()!.Replace("~", "~0").Replace("/", "~1");
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray) { path.Pop(); continue; }

            string pointer;
            if (path.Count == 0) pointer = "";
            else if (path.Peek().IsArray)
            {
                var top = path.Pop();
                pointer = $"{top.Prefix}/{top.Index}";
                path.Push(top with { Index = top.Index + 1 });
            }
            else pointer = $"{path.Peek().Prefix}/{pendingName}";
            result[pointer] = At(reader.TokenStartIndex);
            if (reader.TokenType == JsonTokenType.StartObject) path.Push((pointer, 0, false));
            else if (reader.TokenType == JsonTokenType.StartArray) path.Push((pointer, 0, true));
        }
        return result;
    }
}
