using System.Diagnostics;
using FcTrain.Tests.Tokenization;
using FcTrain.Tokenization;

namespace FcTrain.Bench;

/// <summary>
/// Single-thread encode throughput of GemmaTokenizer vs HF tokenizers (Rust, via Tokenizers.DotNet) on two
/// corpora: the generated parity corpus (a small word list: repetitive, cache-friendly) and the repository's
/// own text files (C#, Markdown, JSON: varied), warm and cold (see Measure). Best of several rounds.
/// Usage: tokenizer [--documents N] [--rounds R]
/// </summary>
internal static class TokenizerBenchmark
{
    public static int Run(string[] args)
    {
        int documents = Option(args, "--documents", 3000), rounds = Option(args, "--rounds", 5);
        var ours = GemmaTokenizer.Embedded();
        string json = Path.Combine(Path.GetTempPath(), $"fctrain-bench-{ours.ContentHash[..16]}.tokenizer.json");
        if (!File.Exists(json)) FcTrain.IO.AtomicFile.WriteAllBytes(json, ours.OriginalJson);
        // GemmaTokenizer.Encode never reads special tokens in text, HF does (the repository's text has "<eos>" in
        // places): the ids are checked against HF with the same tokenizer.json less its added_tokens, where text is text.
        string textJson = Path.Combine(Path.GetTempPath(), $"fctrain-bench-{ours.ContentHash[..16]}.text-only.tokenizer.json");
        if (!File.Exists(textJson))
        {
            var root = System.Text.Json.Nodes.JsonNode.Parse(ours.OriginalJson.ToArray())!;
            root["added_tokens"] = new System.Text.Json.Nodes.JsonArray();
            FcTrain.IO.AtomicFile.WriteAllBytes(textJson, System.Text.Encoding.UTF8.GetBytes(root.ToJsonString()));
        }
        var reference = new Tokenizers.DotNet.Tokenizer(textJson);

        // What a new process pays before its first token: reading the 17 MB tokenizer.json into a tokenizer.
        string folder = Path.Combine(Path.GetTempPath(), $"fctrain-bench-{ours.ContentHash[..16]}");
        Directory.CreateDirectory(folder);
        if (!File.Exists(Path.Combine(folder, "tokenizer.json"))) FcTrain.IO.AtomicFile.WriteAllBytes(Path.Combine(folder, "tokenizer.json"), ours.OriginalJson);
        GemmaTokenizer.FromFolder(folder);   // JIT
        var load = (Ours: Best(rounds, () => GemmaTokenizer.FromFolder(folder)), Hf: Best(rounds, () => new Tokenizers.DotNet.Tokenizer(json)));
        Console.WriteLine($"load tokenizer.json: GemmaTokenizer {load.Ours * 1e3:F0} ms, HF tokenizers {load.Hf * 1e3:F0} ms, ratio {load.Hf / load.Ours:F2}x");

        Measure("generated parity corpus (seed 2)", TokenizerCorpus.Generate(documents, seed: 2).ToList(), ours, reference, json, load, rounds);
        Measure("repository text files", RepositoryTexts(), ours, reference, json, load, rounds);
        return 0;
    }

    /// <summary>
    /// Warm: both tokenizers have seen the corpus (JIT, caches: HF's BPE keeps a word cache too). Cold: a fresh
    /// HF tokenizer and an emptied chunk cache before every timed pass, so each pass is what a new process does
    /// after loading (JIT aside); "cold + load" adds each one's load time.
    /// </summary>
    private static void Measure(string name, List<string> corpus, GemmaTokenizer ours, Tokenizers.DotNet.Tokenizer reference, string hfJson, (double Ours, double Hf) load, int rounds)
    {
        var hf = new Tokenizers.DotNet.Tokenizer(hfJson);
        foreach (var t in corpus) hf.Encode(t);   // warm-up (JIT, caches)
        // The speed counts only with equal ids: every document against HF's (less its <bos>).
        var differ = corpus.Where(t => !reference.Encode(t).Skip(1).Select(i => (int)i).SequenceEqual(ours.Encode(t))).ToList();
        if (differ.Count > 0) throw new InvalidOperationException($"{name}: the ids of {differ.Count} of {corpus.Count} documents differ from HF's; the first: {FirstDifference(differ[0], ours, reference)}");
        long chars = corpus.Sum(t => (long)t.Length);
        long tokens = corpus.Sum(t => (long)ours.Encode(t).Length);
        double oursWarm = Best(rounds, () => { foreach (var t in corpus) ours.Encode(t); });
        double hfWarm = Best(rounds, () => { foreach (var t in corpus) hf.Encode(t); });
        double oursCold = Best(rounds, ours.ClearChunkCache, () => { foreach (var t in corpus) ours.Encode(t); });
        double hfCold = Best(rounds, () => hf = new Tokenizers.DotNet.Tokenizer(hfJson), () => { foreach (var t in corpus) hf.Encode(t); });
        Console.WriteLine($"{name}: {corpus.Count} documents, {chars:N0} chars, {tokens:N0} tokens, ids equal to HF's; best of {rounds}, one thread");
        Console.WriteLine($"  warm: GemmaTokenizer {tokens / oursWarm / 1e6,6:F2} M tokens/s, HF tokenizers {tokens / hfWarm / 1e6,6:F2} M tokens/s, ratio {hfWarm / oursWarm:F2}x");
        Console.WriteLine($"  cold: GemmaTokenizer {tokens / oursCold / 1e6,6:F2} M tokens/s, HF tokenizers {tokens / hfCold / 1e6,6:F2} M tokens/s, ratio {hfCold / oursCold:F2}x");
        Console.WriteLine($"  cold + load: GemmaTokenizer {oursCold + load.Ours:F2} s, HF tokenizers {hfCold + load.Hf:F2} s, ratio {(hfCold + load.Hf) / (oursCold + load.Ours):F2}x");
    }

    private static string FirstDifference(string text, GemmaTokenizer ours, Tokenizers.DotNet.Tokenizer hf)
    {
        int[] expected = [.. hf.Encode(text).Skip(1).Select(i => (int)i)], actual = ours.Encode(text);
        int at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at]) at++;
        string Pieces(int[] ids) => string.Join(" ", ids.Skip(Math.Max(0, at - 3)).Take(8).Select(i => System.Text.Json.JsonSerializer.Serialize(ours.Piece(i)) + $"={i}"));
        return $"token {at}: HF {Pieces(expected)}, ours {Pieces(actual)}";
    }

    private static List<string> RepositoryTexts()
    {
        string root = Directory.GetCurrentDirectory();
        for (var dir = new DirectoryInfo(root); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "fctrain.slnx"))) { root = dir.FullName; break; }
        string[] extensions = [".cs", ".md", ".json", ".targets", ".props", ".py"];
        return Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Contains(Path.GetExtension(f)) && !f.Contains("/bin/") && !f.Contains("/obj/") && !f.Contains("/.git/"))
            .Order(StringComparer.Ordinal).Select(File.ReadAllText).ToList();
    }

    internal static double Best(int rounds, Action action) => Best(rounds, () => { }, action);

    /// <summary>The fastest of <paramref name="rounds"/> timed runs of <paramref name="action"/>, each after an untimed <paramref name="setup"/>.</summary>
    internal static double Best(int rounds, Action setup, Action action)
    {
        double best = double.MaxValue;
        for (int r = 0; r < rounds; r++)
        {
            setup();
            var watch = Stopwatch.StartNew();
            action();
            best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        return best;
    }

    internal static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
    }
}
