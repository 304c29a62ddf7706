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

        Measure("generated parity corpus (seed 2)", TokenizerCorpus.Generate(documents, seed: 2).ToList(), ours, json, rounds);
        Measure("repository text files", RepositoryTexts(), ours, json, rounds);
        return 0;
    }

    /// <summary>
    /// Warm: both tokenizers have seen the corpus (JIT, caches: HF's BPE keeps a word cache too). Cold: a fresh
    /// HF tokenizer and an emptied chunk cache before every timed pass, so each pass is what a new process does.
    /// </summary>
    private static void Measure(string name, List<string> corpus, GemmaTokenizer ours, string hfJson, int rounds)
    {
        var hf = new Tokenizers.DotNet.Tokenizer(hfJson);
        foreach (var t in corpus) { ours.Encode(t); hf.Encode(t); }   // warm-up (JIT, caches)
        long chars = corpus.Sum(t => (long)t.Length);
        long tokens = corpus.Sum(t => (long)ours.Encode(t).Length);
        double oursWarm = Best(rounds, () => { foreach (var t in corpus) ours.Encode(t); });
        double hfWarm = Best(rounds, () => { foreach (var t in corpus) hf.Encode(t); });
        double oursCold = Best(rounds, ours.ClearChunkCache, () => { foreach (var t in corpus) ours.Encode(t); });
        double hfCold = Best(rounds, () => hf = new Tokenizers.DotNet.Tokenizer(hfJson), () => { foreach (var t in corpus) hf.Encode(t); });
        Console.WriteLine($"{name}: {corpus.Count} documents, {chars:N0} chars, {tokens:N0} tokens; best of {rounds}, one thread");
        Console.WriteLine($"  warm: GemmaTokenizer {tokens / oursWarm / 1e6,6:F2} M tokens/s, HF tokenizers {tokens / hfWarm / 1e6,6:F2} M tokens/s, ratio {hfWarm / oursWarm:F2}x");
        Console.WriteLine($"  cold: GemmaTokenizer {tokens / oursCold / 1e6,6:F2} M tokens/s, HF tokenizers {tokens / hfCold / 1e6,6:F2} M tokens/s, ratio {hfCold / oursCold:F2}x");
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
