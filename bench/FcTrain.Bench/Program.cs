using FcTrain.Bench;

// dotnet run -c Release --project bench/FcTrain.Bench -- <benchmark> [options]
// One subcommand per benchmark; each prints what it measured.
FcTrain.Models.OpenMp.LimitSpinning();   // as the CLI does, before anything loads libtorch
var benchmarks = new Dictionary<string, Func<string[], int>>
{
    ["validate"] = ValidateBenchmark.Run,
    ["tokenizer"] = TokenizerBenchmark.Run,
    ["render-tokenize"] = RenderTokenizeBenchmark.Run,
    ["model"] = ModelBenchmark.Run,
    ["model-load"] = ModelBenchmark.LoadOnly,
    ["gpu"] = GpuBenchmark.Run,
    ["train"] = TrainBenchmark.Run,
    ["decode"] = DecodeBenchmark.Run,
    ["import"] = ImportBenchmark.Run,
    ["import-stream"] = ImportBenchmark.Stream,
};
if (args.Length == 0 || !benchmarks.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: FcTrain.Bench <{string.Join('|', benchmarks.Keys)}> [options]");
    return 2;
}
return run(args[1..]);
