using System.Diagnostics;
using FcTrain.Generation;
using FcTrain.Models;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>decode --prompt ID,ID,… [--new-tokens N] [--threads N]</c>: greedy decoding with the KV cache on the embedded
/// tiny model (prefill included; stops early at an end-of-turn id), timed after one warm-up run. Prints the generated
/// ids, tokens/s and the process's peak RSS: the fctrain side of bench/compare-pytorch's decode comparison.
/// </summary>
public static class DecodeBenchmark
{
    public static int Run(string[] args)
    {
        if (TrainBenchmark.Arg(args, "--threads") is { } threads) set_num_threads(int.Parse(threads));
        var prompt = (TrainBenchmark.Arg(args, "--prompt") ?? throw new ArgumentException("--prompt ID,ID,... is required"))
            .Split(',').Select(int.Parse).ToArray();
        int newTokens = int.Parse(TrainBenchmark.Arg(args, "--new-tokens") ?? "64");
        using var model = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU);
        var options = new GenerationOptions(MaxNewTokens: newTokens, UseKvCache: true);
        TextGenerator.Generate(model, prompt, options);   // warm-up
        var clock = Stopwatch.StartNew();
        var ids = TextGenerator.Generate(model, prompt, options);
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine("IDS " + string.Join(',', ids));
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT side=fctrain job=decode threads={get_num_threads()} generated={ids.Count} tokens_per_s={ids.Count / seconds:F1} peak_rss_mib={TrainBenchmark.PeakRssMiB()}"));
        return 0;
    }
}
