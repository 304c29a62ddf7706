using System.Diagnostics;
using FcTrain.Generation;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using FcTrain.Settings;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>model</c>: Gemma-2 on this machine's CPU.
/// 0. the memory bandwidth: the best of several sums over a 1 GiB float32 tensor (a read of every byte);
/// 1. forward tokens/s of the embedded tiny model and of a 2-layer model with gemma-2-2b's shapes, on a 512-token row;
/// 2. greedy decoding of 64 tokens after a 448-token prompt (512 in all), with and without the KV cache (tiny only), the cached
///    ms/token against the bound of one read of what a step multiplies with (the head, the layers, the adapter, the keys and
///    values) at that bandwidth, and where a step's time goes;
/// 3. batched greedy decoding, 64 new tokens after 128-token prompts at 1, 8 and 64 rows: aggregate tokens/s;
/// 4. the load time of a generated checkpoint with gemma-2-2b's layer shapes (26 layers, BF16, ~5 GB on disk).
/// Both models carry the course's adapter (r=16 on every projection, the embedding and the head, with non-zero factors), as eval
/// runs a trained one. Options: <c>--skip-load</c> leaves out (4), which needs ~5 GB of free disk and ~10 GB of memory.
/// </summary>
internal static class ModelBenchmark
{
    private static Gemma2Config Gemma2_2B(int layers) => new() { NumHiddenLayers = layers };   // the defaults are gemma-2-2b's

    public static int Run(string[] args)
    {
        Console.WriteLine($"libtorch threads: {get_num_threads()}, processors: {Environment.ProcessorCount}");
        double bandwidth = Bandwidth();
        using (var tiny = WithAdapter(ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU)))
        {
            Forward("tiny", tiny, 512);
            Decode("tiny", tiny, prompt: 448, generated: 64, bandwidth);
            Batched("tiny", tiny, [1, 8, 64]);
        }
        var shapes = Gemma2_2B(2);
        using (var twoLayer = WithAdapter(Random(shapes, ScalarType.Float32)))
        {
            string name = $"2-layer gemma-2-2b shapes (float32; hidden {shapes.HiddenSize}, intermediate {shapes.IntermediateSize}, " +
                          $"{shapes.NumAttentionHeads}/{shapes.NumKeyValueHeads} heads of {shapes.HeadDim}, vocab {shapes.VocabSize})";
            Forward(name, twoLayer, 512);
            Decode(name, twoLayer, prompt: 448, generated: 64, bandwidth, uncached: false);   // 64 full forwards would take minutes
            Batched(name, twoLayer, [1, 8]);
        }
        if (!args.Contains("--skip-load")) Load();
        return 0;
    }

    /// <summary>Attaches the course's adapter with live factors (B starts at zero): eval decodes with a trained one.</summary>
    private static Gemma2ForCausalLM WithAdapter(Gemma2ForCausalLM model)
    {
        model.ApplyLora(new LoraSettings().ToConfig());
        using var _ = no_grad();
        foreach (var (name, p) in model.AdapterParameters())
            if (name.Contains("lora_B") || name.Contains("lora_embedding_A")) p.normal_(0, 0.01);
        return model;
    }

    private static void Forward(string name, Gemma2ForCausalLM model, int tokens)
    {
        model.eval();
        using var _ = no_grad();
        var ids = randint(0, model.Config.VocabSize, [1, tokens]);
        var positions = arange(tokens).unsqueeze(0);
        var times = new List<double>();
        for (int run = 0; run < 4; run++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            model.forward(ids, positions);
            times.Add(watch.Elapsed.TotalSeconds);
        }
        double best = times.Skip(1).Min();   // the first run warms up
        Console.WriteLine($"forward {name}: {tokens / best:N0} tokens/s ({tokens} tokens in {best * 1000:N0} ms, best of 3)");
    }

    /// <summary>Read bandwidth in bytes/s: the best of 5 sums over 1 GiB (the first run warms up).</summary>
    private static double Bandwidth()
    {
        using var data = ones(256L << 20, ScalarType.Float32);
        double best = double.MaxValue;
        for (int run = 0; run < 6; run++)
        {
            using var scope = NewDisposeScope();
            var watch = Stopwatch.StartNew();
            data.sum().item<float>();
            if (run > 0) best = Math.Min(best, watch.Elapsed.TotalSeconds);
        }
        double bandwidth = data.NumberOfElements * 4 / best;
        Console.WriteLine($"memory bandwidth: {bandwidth / 1e9:N1} GB/s (sum over 1 GiB of float32, best of 5)");
        return bandwidth;
    }

    private static void Decode(string name, Gemma2ForCausalLM model, int prompt, int generated, double bandwidth, bool uncached = true)
    {
        using var head = GreedyHead.For(model);   // built once, as eval builds it: its packing is not part of decoding
        var ids = randint(0, model.Config.VocabSize, [prompt]).data<long>().Select(i => (int)i).ToArray();
        double Time(bool cache)
        {
            // Greedy decoding may stop early at <eos>/<end_of_turn>; time per generated token.
            var watch = Stopwatch.StartNew();
            int count = TextGenerator.GenerateBatch(model, [ids], new GenerationOptions(MaxNewTokens: generated, UseKvCache: cache), head)[0].Ids.Count + 1;
            return count / watch.Elapsed.TotalSeconds;
        }
        Time(cache: true);
        double with = Time(cache: true);
        if (uncached)
        {
            double without = Time(cache: false);
            Console.WriteLine($"decode {name} at {prompt + generated} tokens: {with:N1} tokens/s with the KV cache, {without:N1} without ({with / without:N1}x)");
        }
        else Console.WriteLine($"decode {name} at {prompt + generated} tokens: {with:N1} tokens/s with the KV cache");

        // The bound: one read, at the measured bandwidth, of everything a step multiplies with, the head in float32. Where the
        // fused head applies it reads a bfloat16 copy of the head instead (and the exact rows of a few ids): a second floor.
        var (headBytes, layerBytes, cacheBytes) = StepBytes(model, prompt + generated / 2);
        double stepMs = StepMs(model, prompt, generated, head);
        double boundMs = (headBytes + layerBytes + cacheBytes) / bandwidth * 1000;
        double screenMs = (headBytes / 2 + layerBytes + cacheBytes) / bandwidth * 1000;
        var weight = model.LmHead.Weight;
        Console.WriteLine($"decode {name}, batch 1, per step after the prefill: {stepMs:N2} ms/token; bound {boundMs:N2} ms " +
                          $"(head {weight.shape[0]}x{weight.shape[1]} {weight.dtype} and its adapter {headBytes / 1e6:N0} MB, layers and their adapters {layerBytes / 1e6:N1} MB, " +
                          $"keys and values {cacheBytes / 1e6:N1} MB, read once at {bandwidth / 1e9:N1} GB/s): {stepMs / boundMs:N2}x the bound" +
                          (head is not null ? $"; {stepMs / screenMs:N2}x one read of the same with the head in bfloat16 ({screenMs:N2} ms), as the fused head reads it" : ""));
        Profile(name, model, prompt);
    }

    /// <summary>
    /// The bytes a batch-1 step at <paramref name="position"/> reads at least: the head with its adapter's B; every layer's
    /// weights and adapters; the keys and values it attends to. Of the embedding only one row is read (the tied head is its
    /// whole table, counted as the head).
    /// </summary>
    private static (double Head, double Layers, double Cache) StepBytes(Gemma2ForCausalLM model, int position)
    {
        static double Bytes(Tensor t) => (double)t.NumberOfElements * t.ElementSize;
        var c = model.Config;
        double head = Bytes(model.LmHead.Weight) + (model.LmHead.LoraB is { } b ? Bytes(b.weight!) : 0);
        double layers = model.named_parameters().Where(p => p.name.StartsWith("model.layers.")).Sum(p => Bytes(p.parameter));
        double cache = Enumerable.Range(0, c.NumHiddenLayers)
            .Sum(l => 2.0 * c.NumKeyValueHeads * c.HeadDim * sizeof(float) * (c.IsSliding(l) ? Math.Min(position, c.SlidingWindow!.Value) : position));
        return (head, layers, cache);
    }

    /// <summary>ms per decoding step at batch 1, without the prefill: (t(prefill + N steps) − t(prefill + 1 step)) / (N − 1).</summary>
    private static double StepMs(Gemma2ForCausalLM model, int prompt, int steps, GreedyHead? head)
    {
        var ids = randint(3, model.Config.VocabSize, [prompt]).data<long>().Select(i => (int)i).ToArray();
        double Run(int n)
        {
            double best = double.MaxValue;
            for (int run = 0; run < 3; run++)
            {
                var watch = Stopwatch.StartNew();
                int count = TextGenerator.GenerateBatch(model, [ids], new GenerationOptions(MaxNewTokens: n), head)[0].Ids.Count;
                if (count < n - 1) throw new InvalidOperationException("stopped early; pick another prompt");
                best = Math.Min(best, watch.Elapsed.TotalMilliseconds);
            }
            return best;
        }
        return (Run(steps) - Run(1)) / (steps - 1);
    }

    /// <summary>
    /// Where one decoding step's time goes at <paramref name="rows"/> rows: the layers on one token a row and the head
    /// with the choice, as decoding runs them (<see cref="DecodeStep"/> and <see cref="GreedyHead"/>) where they apply, and
    /// in any case through the modules and the tensor path (the head's product, then argmax and runner-up over the
    /// logits), for comparison.
    /// </summary>
    private static void Profile(string name, Gemma2ForCausalLM model, int prompt, int rows = 1)
    {
        model.eval();
        using var _ = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers, prompt + 64, rows);
        using (var scope = NewDisposeScope())
            model.Hidden(randint(3, model.Config.VocabSize, [rows, prompt]), arange(prompt).unsqueeze(0).expand(rows, prompt), null, cache);
        var watch = Stopwatch.StartNew();
        using var fused = GreedyHead.For(model);
        double packing = watch.Elapsed.TotalMilliseconds;
        using var decode = DecodeStep.For(model, (int)cache.Capacity);
        double layers = 0, decodeStep = 0, head = 0, choice = 0, fusedHead = 0;
        const int Steps = 32;
        for (int step = 0; step < Steps; step++)
        {
            using var scope = NewDisposeScope();
            watch.Restart();
            var hidden = model.Hidden(full(rows, 1, 42L), full(rows, 1, (long)(prompt + step)), null, cache)[.., -1];   // (B, C)
            layers += watch.Elapsed.TotalMilliseconds;
            if (decode is not null)
            {
                watch.Restart();
                hidden = decode.Run([.. Enumerable.Repeat(42, rows)], [.. Enumerable.Repeat(prompt + step, rows)], cache);
                decodeStep += watch.Elapsed.TotalMilliseconds;
            }
            if (fused is not null)
            {
                watch.Restart();
                fused.Choose(hidden);
                fusedHead += watch.Elapsed.TotalMilliseconds;
            }
            watch.Restart();
            var logits = model.LmHead.forward(hidden).to(ScalarType.Float32);                                      // (B, V)
            head += watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            var (top, index) = logits.max(-1);
            var second = logits.scatter_(1, index.unsqueeze(1), full(index.shape[0], 1, float.NegativeInfinity, logits.dtype, logits.device)).amax(-1);
            (top - second).sum().item<float>();
            choice += watch.Elapsed.TotalMilliseconds;
        }
        Console.WriteLine($"decode {name}, {rows} row(s), one step: " +
                          (decode is null ? $"layers {layers / Steps:N2} ms (no decoding step here: it needs a float32 CPU model and AVX-512); "
                                          : $"layers {decodeStep / Steps:N2} ms in the decoding step ({layers / Steps:N2} ms through the modules); ") +
                          (fused is null ? "no fused head here (needs the CPU, a float32 head and AVX-512); " : $"fused head and choice {fusedHead / Steps:N2} ms (packing its panels once: {packing:N0} ms); ") +
                          $"tensor path: head {head / Steps:N2} ms, argmax + runner-up {choice / Steps:N2} ms");
    }

    /// <summary>Aggregate greedy decoding tokens/s at several batch sizes: 128-token prompts, 64 new tokens a row.</summary>
    private static void Batched(string name, Gemma2ForCausalLM model, int[] batchSizes)
    {
        const int Prompt = 128, New = 64;
        using var head = GreedyHead.For(model);
        foreach (int rows in batchSizes)
        {
            var prompts = Enumerable.Range(0, rows).Select(_ => (IReadOnlyList<int>)randint(3, model.Config.VocabSize, [Prompt]).data<long>().Select(i => (int)i).ToArray()).ToList();
            (double Seconds, int Tokens) Run(int n)
            {
                var watch = Stopwatch.StartNew();
                int tokens = TextGenerator.GenerateBatch(model, prompts, new GenerationOptions(MaxNewTokens: n), head).Sum(g => g.Ids.Count);
                return (watch.Elapsed.TotalSeconds, tokens);
            }
            Run(2);   // warm-up
            var one = Run(1);
            var all = Run(New);
            double decode = (all.Tokens - one.Tokens) / (all.Seconds - one.Seconds);
            Console.WriteLine($"batched decode {name}, {rows} row(s): {decode:N0} tokens/s in the decoding steps ({(all.Seconds - one.Seconds) / (New - 1) * 1000:N1} ms a step), " +
                              $"{all.Tokens / all.Seconds:N0} tokens/s with the prefill of {rows}x{Prompt} tokens ({one.Seconds:N2} s)");
            if (rows > 1) Profile(name, model, Prompt, rows);
        }
    }

    private static void Load()
    {
        var config = Gemma2_2B(26);
        string folder = Path.Combine(Path.GetTempPath(), $"fctrain-bench-2b-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(folder);
            config.Save(Path.Combine(folder, "config.json"));
            using (var model = Random(config, ScalarType.BFloat16))
                SafeTensorsWriter.Write(Path.Combine(folder, "model.safetensors"), model.state_dict().Select(p => (p.Key, p.Value)));
            // Load in a fresh process, so its peak memory is the loader's alone.
            string self = typeof(ModelBenchmark).Assembly.Location;
            var start = Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal)
                ? new ProcessStartInfo(Environment.ProcessPath, [self, "model-load", folder])
                : new ProcessStartInfo(Environment.ProcessPath, ["model-load", folder]);
            using var child = Process.Start(start)!;
            child.WaitForExit();
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    /// <summary><c>model-load FOLDER</c>: the timed half of (3), run in its own process.</summary>
    public static int LoadOnly(string[] args)
    {
        string folder = args[0];
        long bytes = new FileInfo(Path.Combine(folder, "model.safetensors")).Length;
        var watch = Stopwatch.StartNew();
        using var loaded = ModelLoader.Load(folder, ScalarType.BFloat16, CPU);
        Console.WriteLine($"load gemma-2-2b-shaped checkpoint ({bytes / 1e9:N2} GB, BF16): {watch.Elapsed.TotalSeconds:N1} s, " +
                          $"peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e9:N2} GB");
        return 0;
    }

    private static Gemma2ForCausalLM Random(Gemma2Config config, ScalarType dtype)
    {
        var model = new Gemma2ForCausalLM(config, dtype, CPU);
        using var _ = no_grad();
        foreach (var p in model.parameters()) p.normal_(0, 0.02);
        return model;
    }
}
