using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FcTrain.Evaluation;

/// <summary>
/// The comparison form of tool arguments, as the BFCL AST checker compares them: object keys in ordinal
/// order (key order is irrelevant), numbers by value (<c>1</c> equals <c>1.0</c>, written <c>1</c>),
/// types kept apart (<c>1</c> is not <c>"1"</c> nor <c>true</c>), arrays in order.
/// Used for exact matching and for the stable text of snapshots.
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>A deep copy with sorted keys and numbers written by value.</summary>
    public static JsonNode? Normalize(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Normalize(p.Value)))),
        JsonArray array => new JsonArray(array.Select(Normalize).ToArray()),
        JsonValue value when value.GetValueKind() == JsonValueKind.Number => NumberValue(value),
        _ => node.DeepClone(),
    };

    public static JsonObject Normalize(JsonObject obj) => (JsonObject)Normalize((JsonNode)obj)!;

    /// <summary>One line of text; equal for exactly the values the checker calls equal.</summary>
    public static string Key(JsonNode? node) => Normalize(node)?.ToJsonString(Compact) ?? "null";

    public static bool ValueEquals(JsonNode? a, JsonNode? b) => Key(a) == Key(b);

    // Numbers compare as decimals where they fit (exact for everything a model writes in JSON), and as
    // doubles otherwise (1e300). Trailing zeros are dropped: 1.0 and 1 and 1.00 are the same value.
    private static JsonNode NumberValue(JsonValue value)
    {
        string text = value.ToJsonString();
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal d))
        {
            decimal normalized = d / 1.000000000000000000000000000000000m;
            return normalized == decimal.Truncate(normalized) && Math.Abs(normalized) <= long.MaxValue
                ? JsonValue.Create((long)normalized)
                : JsonValue.Create(normalized);
        }
        return JsonValue.Create(double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }
}
