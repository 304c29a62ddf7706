using System.Text;

namespace FcTrain.Tests.Tokenization;

/// <summary>
/// A deterministic corpus that exercises the Gemma tokenizer's corners: prose in several scripts, emoji
/// (in and outside the vocabulary, ZWJ sequences, flags), code, JSON, whitespace runs (spaces, tabs,
/// newlines, mixed), characters that need byte fallback, and long documents.
/// Shared with the benchmark (bench/FcTrain.Bench links this file).
/// </summary>
public static class TokenizerCorpus
{
    private static readonly string[] Words =
    [
        "the", "function", "call", "weather", "Paris", "tomorrow", "a", "an", "is", "of", "to", "with", "données",
        "über", "naïve", "café", "résumé", "Straße", "ñandú", "mañana", "Привет", "мир", "погода", "Ελληνικά",
        "こんにちは", "世界", "天気", "東京", "你好", "北京", "天气", "안녕하세요", "날씨", "مرحبا", "العالم", "שלום",
        "नमस्ते", "दुनिया", "สวัสดี", "Xin chào", "Tiếng Việt", "γειά", "ሰላም", "ქართული", "Հայերեն", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢",
        "😀", "🎉", "👍🏽", "👨‍👩‍👧‍👦", "🇫🇷", "🦀", "🧑‍💻", "❤️", "✅", "🫠", "🪿", "∑", "∫", "≠", "→", "½", "©", "™",
        "get_weather", "snake_case", "camelCase", "PascalCase", "CONSTANT", "x86_64", "3.14159", "42", "-7", "1e-9",
        "2026-11-28", "12:30", "https://example.com/a?b=c&d=e", "user@example.com", "#hashtag", "@mention",
        "<tool_call>", "</tool_call>", "<think>", "<start_of_turn>", "<end_of_turn>", "<unused0>", "<0x41>",
        "\u00a0", "\u200b", "\u3000", "\ufeff", "\u0301", "e\u0301", "\ud7ff", "\U0010FFFD", "\uE000", "\u0000", "\u007f",
        "aaaaaaa", "aaaaaaaaaaaaaaaa", "ababababab", "zzzzzz", "........", "!!!", "???", "...", "--", "==", "~~~",
    ];

    private static readonly string[] Separators = [" ", " ", " ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\n ", "\t\t", " \t ", "\r\n", "", ", ", ". ", "; "];

    private const string Code = """
        using System;

        public static class Program
        {
            public static int Main(string[] args)
            {
                for (int i = 0; i < args.Length; i++)
                {
                    Console.WriteLine($"{i}: {args[i]}");   // tabs	and	spaces
                }
                return 0;
            }
        }

        def fib(n: int) -> int:
            if n < 2:
                return n
            return fib(n - 1) + fib(n - 2)
        """;

    private const string Json = """{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius", "days": [1, 2, 3], "ok": true, "note": null, "nested": {"a": {"b": {"c": "\u00e9"}}}}}""";

    /// <summary>Fixed cases (edge cases) followed by <paramref name="random"/> generated documents.</summary>
    public static IEnumerable<string> Generate(int random, int seed = 20261128)
    {
        string[] fixedCases =
        [
            "", " ", "  ", "\n", "\n\n\n", " \n", "\n ", "\t", "a", " a", "a ", "  a  ", "Hello world", "Hello  world",
            "Hello, my dog is cute", "aaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", new string(' ', 40), new string('\n', 33),
            new string('▁', 5), "▁▁a▁", " ▁ ▁ ", "\t\t\tindent", "x\r\ny", Code, Json, Json.Replace("\"", "'"),
            "😀😀😀", "👨‍👩‍👧‍👦 family", "🇫🇷🇩🇪🇯🇵", "\U0001F9EA test", "\U000E0067\U000E0062", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕋𝕖𝕩𝕥",
            "混合 text with 日本語 and English", "العربية مع English", "emoji👍🏽inline", "tab\tin\tmiddle",
        ];
        foreach (var text in fixedCases) yield return text;

        var rng = new Random(seed);
        for (int d = 0; d < random; d++)
        {
            // Mostly short, some medium, a few long documents (up to ~40K characters).
            int words = rng.NextDouble() switch { < 0.7 => rng.Next(1, 30), < 0.95 => rng.Next(30, 400), _ => rng.Next(2000, 6000) };
            var text = new StringBuilder();
            for (int w = 0; w < words; w++)
            {
                double kind = rng.NextDouble();
                if (kind < 0.01) text.Append(Code);
                else if (kind < 0.02) text.Append(Json);
                else if (kind < 0.05) text.Append(RandomChars(rng, rng.Next(1, 6)));
                else text.Append(Words[rng.Next(Words.Length)]);
                text.Append(Separators[rng.Next(Separators.Length)]);
            }
            yield return text.ToString();
        }
    }

    // Arbitrary code points (outside surrogates), many of them outside the vocabulary: byte fallback.
    private static string RandomChars(Random rng, int count)
    {
        var text = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            int cp = rng.Next(4) switch { 0 => rng.Next(0x20, 0x7f), 1 => rng.Next(0xa0, 0x3000), 2 => rng.Next(0x3000, 0xd800), _ => rng.Next(0x10000, 0x30000) };
            text.Append(char.ConvertFromUtf32(cp));
        }
        return text.ToString();
    }
}
