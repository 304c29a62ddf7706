using System.Diagnostics;
using FcTrain.Generation;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>model</c>: Gemma-2 on this machine's CPU.
/// 1. forward tokens/s of the embedded tiny model and of a 2-layer model with gemma-2-2b's shapes, on a 512-token row;
/// 2. greedy decoding of 64 tokens after a 448-token prompt (512 in all), with and without the KV cache;
/// 3. the load time of a generated checkpoint with gemma-2-2b's layer shapes (26 layers, BF16, ~5 GB on disk).
/// Options: <c>--skip-load</c> leaves out (3), which needs ~5 GB of free disk and ~10 GB of memory.
/// </summary>
internal static class ModelBenchmark
{
    private static Gemma2Config Gemma2_2B(int layers) => new() { NumHiddenLayers = layers };   // the defaults are gemma-2-2b's

    public static int Run(string[] args)
    {
        Console.WriteLine($"libtorch threads: {get_num_threads()}, processors: {Environment.ProcessorCount}");
        using (var tiny = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU))
        {
            Forward("tiny", tiny, 512);
            Decode("tiny", tiny, prompt: 448, generated: 64);
        }
        using (var twoLayer = Random(Gemma2_2B(2), ScalarType.Float32))
        {
            Forward("2-layer gemma-2-2b shapes (float32)", twoLayer, 512);
            Decode("2-layer gemma-2-2b shapes (float32)", twoLayer, prompt: 448, generated: 64);
        }
        if (!args.Contains("--skip-load")) Load();
        return 0;
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

    private static void Decode(string name, Gemma2ForCausalLM model, int prompt, int generated)
    {
        var ids = randint(0, model.Config.VocabSize, [prompt]).data<long>().Select(i => (int)i).ToArray();
        double Time(bool cache)
        {
            // Greedy decoding may stop early at <eos>/<end_of_turn>; time per generated token.
            var watch = Stopwatch.StartNew();
            int count = TextGenerator.Generate(model, ids, new GenerationOptions(MaxNewTokens: generated, UseKvCache: cache)).Count + 1;
            return count / watch.Elapsed.TotalSeconds;
        }
        Time(cache: true);
        double with = Time(cache: true), without = Time(cache: false);
        Console.WriteLine($"decode {name} at {prompt + generated} tokens: {with:N1} tokens/s with the KV cache, {without:N1} without ({with / without:N1}x)");
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
