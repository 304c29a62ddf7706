using System.Text;

namespace FcTrain.Tests.Tokenization;

/// <summary>
/// A deterministic generated corpus for tokenizer parity: prose in several scripts, emoji (ZWJ sequences,
/// skin tones, flags), code, JSON, whitespace runs (spaces, tabs, newlines, CRLF), rare characters that need
/// byte fallback, literal "▁", chat markup as plain text, and long documents. Shared with bench/FcTrain.Bench.
/// </summary>
public static class TextCorpus
{
    static readonly string[] Words =
    [
        "the", "function", "calling", "model", "weather", "Paris", "tomorrow", "convert", "currency", "flight",
        "booking", "calendar", "meeting", "e-mail", "don't", "it's", "naïve", "café", "Zürich", "São", "Paulo",
        "Привет", "мир", "погода", "Москва", "Γειά", "σου", "κόσμε", "東京", "天気", "明日", "你好", "世界", "天气",
        "서울", "날씨", "안녕하세요", "مرحبا", "بالعالم", "שלום", "עולם", "नमस्ते", "दुनिया", "สวัสดี", "ครับ",
        "1234", "3.14159", "-42", "1e-9", "100%", "$19.99", "€5", "2026-11-28", "10:30", "v2.0.1", "#hashtag",
        "@user", "https://example.com/a?b=c&d=e", "C:\\Users\\me", "/usr/bin/env", "snake_case", "camelCase",
        "PascalCase", "kebab-case", "SCREAMING_CASE", "ÅÄÖ", "ﬁ", "Ω", "ℕ", "∑", "∞", "≠", "→", "⇒", "√2",
    ];

    static readonly string[] Emoji =
    [
        "😀", "🚀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "❤️", "🤖", "🧑🏿‍💻", "☀️", "🌧", "🎉", "🙏🏻", "🫠", "🦜",
    ];

    static readonly string[] Rare =
    [
        "\u0001", "\u0007", "\u007f", "\u00ad", "\u200b", "\u200d", "\ufeff", "\ue000", "\U0001F9EC", "\U00010348",
        "\U0002A6D6", "\U0001D11E", "\u0f3a", "\u1b05", "\ua9c1", "\U00016B00", "\u2581", "\u2581\u2581", "\r", "\t\t",
        "<start_of_turn>", "<end_of_turn>", "<tool_call>", "</tool_call>", "<think>", "<unused0>", "<0x41>", "<mask>",
    ];

    static readonly string[] Code =
    [
        "public static int Main(string[] args)\n{\n    return 0;\n}\n",
        "def f(x):\n\tif x > 0:\n\t\treturn x ** 2\n\treturn None\n",
        "for (int i = 0; i < n; i++) { sum += a[i] * b[i]; }",
        "SELECT name, COUNT(*) FROM users WHERE age >= 18 GROUP BY name;",
        "<div class=\"row\"><span>&amp; &lt;tag&gt;</span></div>",
        "const x = { a: 1, b: [2, 3], c: `template ${y}` };\r\n",
        "    \n        \n\n\n    indented\n",
        "fn main() { println!(\"{:?}\", vec![1, 2, 3]); }",
    ];

    static readonly string[] Json =
    [
        "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}",
        "{\"name\":\"convert\",\"arguments\":{\"amount\":100.5,\"from\":\"USD\",\"to\":\"EUR\"}}",
        "[{'type': 'function', 'function': {'name': 'f', 'parameters': {'type': 'object', 'required': ['x']}}}]",
        "{\n  \"results\": [\n    {\"id\": 1, \"ok\": true},\n    {\"id\": 2, \"ok\": false, \"err\": null}\n  ]\n}",
        "{\"text\": \"line1\\nline2\\t\\\"quoted\\\" \\u00e9\"}",
    ];

    /// <summary>Reproducible strings: <paramref name="count"/> items, mixed kinds, a few of them long documents.</summary>
    public static List<string> Generate(int count, int seed = 20261128)
    {
        var random = new Random(seed);
        var items = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            int length = i % 50 == 49 ? random.Next(2_000, 12_000) : random.Next(1, 60);
            items.Add(Piece(random, length));
        }
        return items;
    }

    static string Piece(Random random, int parts)
    {
        var text = new StringBuilder();
        for (int p = 0; p < parts; p++)
        {
            int kind = random.Next(100);
            string s = kind switch
            {
                < 55 => Words[random.Next(Words.Length)],
                < 62 => Emoji[random.Next(Emoji.Length)],
                < 68 => Rare[random.Next(Rare.Length)],
                < 74 => Code[random.Next(Code.Length)],
                < 80 => Json[random.Next(Json.Length)],
                < 86 => new string(" \t\n"[random.Next(3)], random.Next(1, 9)),
                < 90 => RandomCodePoints(random, random.Next(1, 6)),
                < 95 => ".,;:!?()[]{}\"'-–—…«»„“”"[random.Next(23)].ToString(),
                _ => "\r\n",
            };
            text.Append(s);
            int sep = random.Next(10);
            text.Append(sep < 7 ? " " : sep < 8 ? "" : sep < 9 ? "\n" : "  ");
        }
        return text.ToString();
    }

    /// <summary>Random scalar values from all planes (no surrogates, no noncharacters U+FFFE/FFFF).</summary>
    static string RandomCodePoints(Random random, int n)
    {
        var s = new StringBuilder();
        for (int i = 0; i < n; i++)
        {
            int cp = random.Next(4) switch
            {
                0 => random.Next(0x20, 0x250),
                1 => random.Next(0x250, 0xD800),
                2 => random.Next(0xE000, 0xFFFE),
                _ => random.Next(0x10000, 0x30000),
            };
            s.Append(char.ConvertFromUtf32(cp));
        }
        return s.ToString();
    }
}
