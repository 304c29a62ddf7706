using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FcTrain.Validation;

/// <summary>
/// Values System.Text.Json parses but no reader can use faithfully: a string whose escapes leave a lone UTF-16
/// surrogate (<c>"\ud800"</c>), a number outside the range of a double (<c>1e400</c>, which would render as
/// <c>inf</c> in a tool call that must be strict JSON) or of a decimal (beyond ±7.9e28: JSON Schema evaluation
/// compares numbers as decimals and fails on them).
/// </summary>
internal static class JsonText
{
    /// <summary>The most items an array may hold: schema keywords such as <c>uniqueItems</c> compare items pairwise.</summary>
    public const int MaxArrayItems = 10_000;

    /// <summary>The byte offset of the first such value (or of an array over <see cref="MaxArrayItems"/>), its code
    /// and the message that says what is wrong, or null.</summary>
    public static (int Offset, string Code, string Problem)? FirstUnrepresentable(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
        Span<int> items = stackalloc int[66];     // per open container: items so far, -1 for an object
        Span<int> starts = stackalloc int[66];
        int depth = 0;
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.EndArray or JsonTokenType.EndObject)
                {
                    depth--;
                    continue;
                }
                if (reader.TokenType != JsonTokenType.PropertyName && depth > 0 && items[depth - 1] >= 0 && ++items[depth - 1] > MaxArrayItems)
                    return (starts[depth - 1], DiagnosticCodes.TooLarge,
                        $"this array has more than {MaxArrayItems:N0} items, more than a training example or a manifest needs (and than schema validation can compare in reasonable time). Split the data.");
                if (reader.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject)
                {
                    items[depth] = reader.TokenType == JsonTokenType.StartArray ? 0 : -1;
                    starts[depth++] = (int)reader.TokenStartIndex;
                    continue;
                }
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped && !IsValidString(ref reader))
                    return ((int)reader.TokenStartIndex, DiagnosticCodes.UnrepresentableValue,
                        "a string escape leaves a lone UTF-16 surrogate (\\ud800-\\udfff without its pair), which is not text. Remove the escape or write the whole character.");
                if (reader.TokenType == JsonTokenType.Number && !IsFiniteDouble(reader.ValueSpan))
                    return ((int)reader.TokenStartIndex, DiagnosticCodes.UnrepresentableValue,
                        $"the number {Encoding.UTF8.GetString(reader.ValueSpan)} is outside the range of a double (about ±1.8e308), so it cannot be read or written as JSON. Use a smaller number or a string.");
                // The schema library compares numbers as decimals: one beyond that range cannot be checked.
                if (reader.TokenType == JsonTokenType.Number && !reader.TryGetDecimal(out _))
                    return ((int)reader.TokenStartIndex, DiagnosticCodes.UnrepresentableValue,
                        $"the number {Encoding.UTF8.GetString(reader.ValueSpan)} is beyond what schema validation can check (about ±7.9e28). Use a smaller number or a string.");
            }
        }
        catch (JsonException)
        {
            // Only called on text that parsed; a reader error here means nothing more to check.
        }
        return null;
    }

    private static bool IsValidString(ref Utf8JsonReader reader)
    {
        try
        {
            reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static bool IsFiniteDouble(ReadOnlySpan<byte> number) =>
        double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value);
}
