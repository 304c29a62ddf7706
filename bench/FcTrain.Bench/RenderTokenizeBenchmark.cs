using FcTrain.Data;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Bench;

/// <summary>
/// End-to-end throughput of render (chat template) + tokenize (ids and labels) on the repository's sample
/// datasets, one thread, repeated to fill the time; then one pass over the conversations with the chunk cache
/// cleared, against HF tokenizers encoding the same rendered texts (with the tokenizer.json fctrain writes, so
/// the markup and turn markers are single tokens there too). Usage: render-tokenize [--repeat N] [--rounds R]
/// </summary>
internal static class RenderTokenizeBenchmark
{
    public static int Run(string[] args)
    {
        int repeat = TokenizerBenchmark.Option(args, "--repeat", 20), rounds = TokenizerBenchmark.Option(args, "--rounds", 5);
        string root = FindRoot();
        var loaded = DatasetLoader.Load(root, []);
        if (loaded.HasErrors) { foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d); return 1; }
        var work = loaded.Datasets.SelectMany(d => d.Conversations.Select(c => (d, c.Conversation))).ToList();
        var tokenizer = GemmaTokenizer.Embedded();

        long tokens = 0;
        void Pass()
        {
            tokens = 0;
            for (int r = 0; r < repeat; r++)
                foreach (var (dataset, conversation) in work)
                    tokens += TokenizedConversation.From(conversation.Id, ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template), tokenizer).Length;
        }
        Pass();   // warm-up
        double seconds = TokenizerBenchmark.Best(rounds, Pass);
        double renderSeconds = TokenizerBenchmark.Best(rounds, () =>
        {
            for (int r = 0; r < repeat; r++)
                foreach (var (dataset, conversation) in work) ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template);
        });
        // One pass, cold: what `fctrain tokenize` does on a fresh process (the sample datasets, once).
        var texts = work.Select(w => ChatTemplate.Text(ChatTemplate.Render(w.Conversation, w.d.Functions, w.d.Manifest.Template))).ToList();
        string dir = Directory.CreateTempSubdirectory("fctrain-bench-").FullName;
        tokenizer.WriteHuggingFaceJson(Path.Combine(dir, "tokenizer.json"));
        var hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json"));
        foreach (var t in texts) hf.Encode(t);   // JIT and native warm-up; each timed pass then gets a fresh HF tokenizer
        double hfPass = TokenizerBenchmark.Best(rounds, () => hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json")), () => { foreach (var t in texts) hf.Encode(t); });
        double oursPass = TokenizerBenchmark.Best(rounds, tokenizer.ClearChunkCache, () =>
        {
            foreach (var (dataset, conversation) in work)
                TokenizedConversation.From(conversation.Id, ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template), tokenizer);
        });
        double encodePass = TokenizerBenchmark.Best(rounds, tokenizer.ClearChunkCache, () => { foreach (var t in texts) tokenizer.Encode(t); });
        Directory.Delete(dir, true);

        int conversations = work.Count * repeat;
        Console.WriteLine($"sample datasets: {work.Count} conversations x {repeat}, {tokens:N0} tokens, best of {rounds}, one thread");
        Console.WriteLine($"render + tokenize: {conversations / seconds:N0} conversations/s, {tokens / seconds / 1e6:F2} M tokens/s ({seconds * 1000:F0} ms)");
        Console.WriteLine($"render only:       {conversations / renderSeconds:N0} conversations/s ({renderSeconds * 1000:F0} ms)");
        Console.WriteLine($"one pass over the {work.Count} conversations, chunk cache cleared: render + tokenize {oursPass * 1000:F1} ms; HF encode (fresh tokenizer) of the rendered texts alone {hfPass * 1000:F1} ms; ratio {hfPass / oursPass:F2}x");
        Console.WriteLine($"  the same rendered texts through GemmaTokenizer.Encode alone, cache cleared: {encodePass * 1000:F1} ms; ratio {hfPass / encodePass:F2}x");
        return 0;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "fctrain.slnx"))) return dir.FullName;
        throw new InvalidOperationException("run the benchmark inside the repository (fctrain.slnx not found)");
    }
}
