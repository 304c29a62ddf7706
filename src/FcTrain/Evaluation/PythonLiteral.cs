using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FcTrain.Evaluation;

/// <summary>
/// Reads the Python-literal style the Hermes function-calling data (and the agents course) writes its tool
/// calls in: <c>{'name': 'f', 'arguments': {'x': True, 'y': None}}</c>, i.e. a Python <c>repr</c> of a dict.
/// Accepts single- and double-quoted strings with Python escapes, True/False/None (and JSON's
/// true/false/null, which models mix in), ints, floats, lists, tuples (as arrays) and trailing commas.
/// It evaluates nothing: a literal grammar only.
/// </summary>
internal sealed class PythonLiteral
{
    private readonly string _text;
    private int _pos;

    private PythonLiteral(string text) => _text = text;

    /// <summary>Parses the whole text as one literal; on failure returns false with a reason naming the offset.</summary>
    public static bool TryParse(string text, out JsonNode? value, out string? error)
    {
        var parser = new PythonLiteral(text);
        try
        {
            value = parser.ParseValue();
            parser.SkipSpace();
            if (parser._pos != text.Length) throw parser.Error("unexpected text after the value");
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            value = null;
            error = e.Message;
            return false;
        }
    }

    private FormatException Error(string what) => new($"{what} at offset {_pos}");

    private void SkipSpace()
    {
        while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos])) _pos++;
    }

    private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

    private JsonNode? ParseValue()
    {
        SkipSpace();
        char c = Peek();
        switch (c)
        {
            case '{': return ParseDict();
            case '[': return ParseSequence('[', ']');
            case '(': return ParseSequence('(', ')');
            case '\'' or '"': return JsonValue.Create(ParseString());
            case '\0': throw Error("unexpected end of text");
        }
        if (c == '-' || c == '+' || c == '.' || char.IsAsciiDigit(c)) return ParseNumber();
        if (char.IsAsciiLetter(c))
        {
            int start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            string word = _text[start.._pos];
            return word switch
            {
                "True" or "true" => JsonValue.Create(true),
                "False" or "false" => JsonValue.Create(false),
                "None" or "null" => null,
                _ => throw new FormatException($"unknown name '{word}' at offset {start}"),
            };
        }
        throw Error($"unexpected character '{c}'");
    }

    private JsonObject ParseDict()
    {
        _pos++; // {
        var result = new JsonObject();
        while (true)
        {
            SkipSpace();
            if (Peek() == '}') { _pos++; return result; }
            if (Peek() is not ('\'' or '"')) throw Error("expected a string key");
            int keyAt = _pos;
            string key = ParseString();
            SkipSpace();
            if (Peek() != ':') throw Error("expected ':'");
            _pos++;
            JsonNode? value = ParseValue();
            if (result.ContainsKey(key)) throw new FormatException($"duplicate key '{key}' at offset {keyAt}");
            result[key] = value;
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            if (Peek() == '}') { _pos++; return result; }
            throw Error("expected ',' or '}'");
        }
    }

    private JsonArray ParseSequence(char open, char close)
    {
        _pos++; // [ or (
        var result = new JsonArray();
        while (true)
        {
            SkipSpace();
            if (Peek() == close) { _pos++; return result; }
            result.Add(ParseValue());
            SkipSpace();
            if (Peek() == ',') { _pos++; continue; }
            if (Peek() == close) { _pos++; return result; }
            throw Error($"expected ',' or '{close}'");
        }
    }

    private string ParseString()
    {
        char quote = _text[_pos++];
        var sb = new StringBuilder();
        while (true)
        {
            if (_pos >= _text.Length) throw Error("unterminated string");
            char c = _text[_pos++];
            if (c == quote) return sb.ToString();
            if (c == '\n') throw Error("line break inside a string");
            if (c != '\\') { sb.Append(c); continue; }
            if (_pos >= _text.Length) throw Error("unterminated string");
            char e = _text[_pos++];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case '0': sb.Append('\0'); break;
                case '\\' or '\'' or '"' or '/': sb.Append(e); break;
                case '\n': break; // line continuation
                case 'x': sb.Append((char)Hex(2)); break;
                case 'u': sb.Append((char)Hex(4)); break;
                case 'U': sb.Append(char.ConvertFromUtf32(Hex(8))); break;
                default: sb.Append('\\').Append(e); break; // Python keeps unknown escapes verbatim
            }
        }
    }

    private int Hex(int digits)
    {
        if (_pos + digits > _text.Length ||
            !int.TryParse(_text.AsSpan(_pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int value))
            throw Error($"expected {digits} hex digits");
        _pos += digits;
        return value;
    }

    private JsonValue ParseNumber()
    {
        int start = _pos;
        if (Peek() is '-' or '+') _pos++;
        bool isFloat = false;
        while (_pos < _text.Length)
        {
            char c = _text[_pos];
            if (char.IsAsciiDigit(c) || c == '_') { _pos++; continue; }
            if (c is '.' or 'e' or 'E') { isFloat = true; _pos++; continue; }
            if ((c is '-' or '+') && _text[_pos - 1] is 'e' or 'E') { _pos++; continue; }
            break;
        }
        string token = _text[start.._pos].Replace("_", "");
        if (!isFloat && long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long integer))
            return JsonValue.Create(integer);
        if (decimal.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out decimal dec) && !token.Contains('e') && !token.Contains('E'))
            return JsonValue.Create(dec);
        if (double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out double real) && double.IsFinite(real))
            return JsonValue.Create(real);
        throw new FormatException($"invalid number '{token}' at offset {start}");
    }
}
