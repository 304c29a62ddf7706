using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.IO;

/// <summary>
/// A small JSON file of a model or adapter folder (config.json, adapter_config.json, a safetensors index), read
/// strictly: UTF-8, syntax, duplicate keys, lone surrogates and numbers beyond double range are errors with line
/// and column. Typed getters check each value and raise one error, under the file's code, naming its JSON pointer.
/// </summary>
internal sealed class JsonFileReader : IDisposable
{
    private readonly JsonRecord _record;
    private readonly JsonDocument _document;
    private readonly string _code;

    private JsonFileReader(JsonRecord record, JsonDocument document, string code)
    {
        _record = record;
        _document = document;
        _code = code;
    }

    public JsonElement Root => _document.RootElement;

    /// <summary>Reads <paramref name="path"/>; any problem is an <see cref="FcTrainException"/> with <paramref name="code"/>.
    /// The root must be a JSON object.</summary>
    public static JsonFileReader Open(string path, string code)
    {
        var diagnostics = new List<Diagnostic>();
        if (JsonRecord.Parse(path, File.ReadAllBytes(path), 1, diagnostics) is not var (record, document))
            throw new FcTrainException(diagnostics[0] with { Code = code });
        var reader = new JsonFileReader(record, document, code);
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            var error = reader.Error("", $"the file must hold a JSON object, not {Describe(document.RootElement)}.");
            reader.Dispose();
            throw error;
        }
        return reader;
    }

    /// <summary>An error at a JSON pointer of this file (its line and column; the message starts with the pointer).</summary>
    public FcTrainException Error(string pointer, string message) => new(_record.Error(pointer, _code, message));

    /// <summary>The property's value when present and not null.</summary>
    public JsonElement? Get(string name) =>
        Root.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    public string? String(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        var other => throw Error($"/{name}", $"must be a string, not {Describe(other.Value)}."),
    };

    public bool? Bool(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        var other => throw Error($"/{name}", $"must be true or false, not {Describe(other.Value)}."),
    };

    public int? Int(string name, int min, int max) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetInt32(out int i) && i >= min && i <= max => i,
        var other => throw Error($"/{name}", $"must be an integer from {min} to {max}, not {Describe(other.Value)}."),
    };

    public double? Number(string name, double min, double max) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.Number } n when n.TryGetDouble(out double d) && d >= min && d <= max => d,
        var other => throw Error($"/{name}", $"must be a number from {min} to {max}, not {Describe(other.Value)}."),
    };

    /// <summary>How a value is shown in messages: its kind and (short) text.</summary>
    public static string Describe(JsonElement value)
    {
        string text = value.GetRawText();
        if (text.Length > 40) text = text[..40] + "…";
        return value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => $"the string {text}",
            JsonValueKind.Null => "null",
            _ => text,
        };
    }

    public void Dispose() => _document.Dispose();
}
