using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FcTrain.Templates;

/// <summary>How tools, call arguments and tool results are written inside the rendered text.</summary>
public enum Serialization
{
    /// <summary>
    /// Strict JSON, canonical: object keys of user data sorted (ordinal), the envelopes fctrain builds
    /// (<c>{"type", "function"}</c>, <c>{"name", "arguments"}</c>, <c>{"name", "content"}</c>) in that fixed order;
    /// separators <c>", "</c> and <c>": "</c>, non-ASCII written as is, numbers as Python writes them after
    /// <c>json.loads</c> (ints exact, floats shortest round-trip: <c>1.0</c>, <c>1e-09</c>) — i.e. Python's
    /// <c>json.dumps(value, ensure_ascii=False)</c> of the canonical value.
    /// </summary>
    Json,
    /// <summary>Python <c>repr</c> of the same canonical value (single quotes, True/False/None), as the Hermes data writes it.</summary>
    Hermes,
}

/// <summary>Writes JSON values in a <see cref="Serialization"/>: deterministic, the same value always gives the same text.</summary>
public static class ValueSerializer
{
    public static Serialization Parse(string value, string source = "fctrain") => value switch
    {
        "json" => Serialization.Json,
        "hermes" => Serialization.Hermes,
        _ => throw Diagnostics.FcTrainException.Error("FCT0120",
            $"unknown serialization '{value}': use 'json' (strict canonical JSON) or 'hermes' (Python dict reprs, as the Hermes data).", source),
    };

    /// <summary>A deep copy of user data with object keys sorted ordinally (arrays keep their order).</summary>
    public static JsonNode? Canonical(JsonNode? node) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, Canonical(p.Value)))),
        JsonArray a => new JsonArray(a.Select(Canonical).ToArray()),
        null => null,
        _ => node.DeepClone(),
    };

    /// <summary>Writes <paramref name="node"/> with its keys in their current order (canonicalize user data first).</summary>
    public static string Serialize(JsonNode? node, Serialization kind)
    {
        var text = new StringBuilder();
        Write(node, kind, text);
        return text.ToString();
    }

    private static void Write(JsonNode? node, Serialization kind, StringBuilder text)
    {
        switch (node)
        {
            case null:
                text.Append(kind == Serialization.Json ? "null" : "None");
                break;
            case JsonObject o:
                text.Append('{');
                bool first = true;
                foreach (var (key, value) in o)
                {
                    if (!first) text.Append(", ");
                    first = false;
                    WriteString(key, kind, text);
                    text.Append(": ");
                    Write(value, kind, text);
                }
                text.Append('}');
                break;
            case JsonArray a:
                text.Append('[');
                for (int i = 0; i < a.Count; i++)
                {
                    if (i > 0) text.Append(", ");
                    Write(a[i], kind, text);
                }
                text.Append(']');
                break;
            case JsonValue v:
                switch (v.GetValueKind())
                {
                    case JsonValueKind.String: WriteString(v.GetValue<string>(), kind, text); break;
                    case JsonValueKind.True: text.Append(kind == Serialization.Json ? "true" : "True"); break;
                    case JsonValueKind.False: text.Append(kind == Serialization.Json ? "false" : "False"); break;
                    case JsonValueKind.Number: text.Append(PythonNumber(v.ToJsonString())); break;
                    default: text.Append(kind == Serialization.Json ? "null" : "None"); break;
                }
                break;
        }
    }

    private static void WriteString(string s, Serialization kind, StringBuilder text)
    {
        if (kind == Serialization.Json) JsonString(s, text);
        else PythonString(s, text);
    }

    // json.dumps(ensure_ascii=False): escapes only the quote, the backslash and control characters.
    private static void JsonString(string s, StringBuilder text)
    {
        text.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': text.Append("\\\""); break;
                case '\\': text.Append("\\\\"); break;
                case '\n': text.Append("\\n"); break;
                case '\r': text.Append("\\r"); break;
                case '\t': text.Append("\\t"); break;
                case '\b': text.Append("\\b"); break;
                case '\f': text.Append("\\f"); break;
                default:
                    if (c < 0x20 || LoneSurrogate(s, i)) text.Append($"\\u{(int)c:x4}");
                    else text.Append(c);
                    break;
            }
        }
        text.Append('"');
    }

    private static bool LoneSurrogate(string s, int i) =>
        char.IsHighSurrogate(s[i]) ? !(i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
        : char.IsLowSurrogate(s[i]) && !(i > 0 && char.IsHighSurrogate(s[i - 1]));

    // Python's str.__repr__: single quotes unless the text has a ' and no ", escapes for non-printable characters.
    private static void PythonString(string s, StringBuilder text)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        text.Append(quote);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == quote || c == '\\') { text.Append('\\').Append(c); continue; }
            if (c == '\n') { text.Append("\\n"); continue; }
            if (c == '\r') { text.Append("\\r"); continue; }
            if (c == '\t') { text.Append("\\t"); continue; }
            int cp;
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) cp = char.ConvertToUtf32(c, s[i + 1]);
            else cp = c;
            int width = cp > 0xFFFF ? 2 : 1;
            if (IsPrintable(cp)) text.Append(s, i, width);
            else if (cp < 0x100) text.Append($"\\x{cp:x2}");
            else if (cp < 0x10000) text.Append($"\\u{cp:x4}");
            else text.Append($"\\U{cp:x8}");
            i += width - 1;
        }
        text.Append(quote);
    }

    // str.isprintable: not in categories Cc, Cf, Cs, Co, Cn, Zl, Zp, Zs, except the ASCII space.
    private static bool IsPrintable(int cp)
    {
        if (cp == ' ') return true;
        if (cp is >= 0xD800 and <= 0xDFFF) return false;
        return CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
                or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
                or UnicodeCategory.SpaceSeparator => false,
            _ => true,
        };
    }

    /// <summary>A JSON number as Python writes it after <c>json.loads</c>: integers exactly, floats by <c>repr</c>.</summary>
    internal static string PythonNumber(string json)
    {
        if (!json.Contains('.') && !json.Contains('e') && !json.Contains('E'))
        {
            var digits = json.TrimStart('-').TrimStart('0');
            if (digits.Length == 0) return "0";
            return json.StartsWith('-') ? "-" + digits : digits;
        }
        double value = double.Parse(json, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        if (value == 0) return json.StartsWith('-') ? "-0.0" : "0.0";

        // Shortest round-trip digits and the decimal exponent of the first digit: value = d.ddd × 10^exponent.
        string r = Math.Abs(value).ToString("E16", CultureInfo.InvariantCulture);
        string shortest = Math.Abs(value).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = shortest.Split('E')[0].Replace(".", "");
        int exponent = int.Parse(r.Split('E')[1], CultureInfo.InvariantCulture);
        // "R" may print 0.0001 as "0.0001": drop leading zeros from its digits.
        string digitsOnly = mantissa.TrimStart('0').TrimEnd('0');
        if (digitsOnly.Length == 0) digitsOnly = "0";
        string sign = value < 0 ? "-" : "";
        if (exponent is >= -4 and < 16)
        {
            string result;
            if (exponent >= 0)
            {
                string intPart = digitsOnly.Length > exponent + 1 ? digitsOnly[..(exponent + 1)] : digitsOnly.PadRight(exponent + 1, '0');
                string frac = digitsOnly.Length > exponent + 1 ? digitsOnly[(exponent + 1)..] : "0";
                result = $"{intPart}.{frac}";
            }
            else result = "0." + new string('0', -exponent - 1) + digitsOnly;
            return sign + result;
        }
        string m = digitsOnly.Length == 1 ? digitsOnly : $"{digitsOnly[0]}.{digitsOnly[1..]}";
        return $"{sign}{m}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
    }
}
