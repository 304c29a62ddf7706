using FcTrain.Tokenization;
using FcTrain.Settings;
using System.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Packing;
using FcTrain.Training;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>train [--model tiny|2b-2layer] [--seq N] [--steps N] [--checkpointing true|false] [--trained-share F]</c>: LoRA training steps
/// (the course's adapter: r=16 on all projections, embeddings and head) on one packed row of N tokens, the last
/// --trained-share of them trained (default 0.1, as in the samples). Prints tokens/s and the process's peak RSS; run once per checkpointing setting (peak RSS is per
/// process) with MALLOC_MMAP_THRESHOLD_=131072 so glibc returns freed memory and the peak is honest.
/// </summary>
public static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        string modelName = Arg(args, "--model") ?? "tiny";
        int seq = int.Parse(Arg(args, "--seq") ?? (modelName == "tiny" ? "1500" : "512"));
        int steps = int.Parse(Arg(args, "--steps") ?? "3");
        bool checkpointing = bool.Parse(Arg(args, "--checkpointing") ?? "true");
        // The samples train on ~10 % of their tokens (model turns); the head runs only on those.
        double trainedShare = double.Parse(Arg(args, "--trained-share") ?? "0.1", System.Globalization.CultureInfo.InvariantCulture);

        random.manual_seed(0);
        var lora = new LoraSettings();
        ITrainableModel model = modelName == "tiny"
            ? Gemma2Trainable.Attach(ModelSession.Open(new FcTrainSettings { Device = "cpu", Dtype = "float32" }, null, ToolTokenMode.Reserved, _ => { }), lora)
            : TwoLayer2bShaped(lora.ToConfig());
        var vocab = modelName == "tiny" ? TinyModel.Config.VocabSize : new Gemma2Config().VocabSize;

        var rng = new Random(1);
        var ids = Enumerable.Range(0, seq).Select(_ => rng.Next(3, vocab)).ToArray();
        var row = new PackedRow(ids, ids.Select((id, t) => t < seq * (1 - trainedShare) ? -100 : id).ToArray(), Enumerable.Range(0, seq).ToArray(), new int[seq]);
        var optimizer = optim.AdamW(model.TrainableParameters().Select(p => p.Value), 1e-4, weight_decay: 0.1);
        FcTrain.Training.LayerRunner runner = checkpointing
            ? (layer, block, x) => GradientCheckpoint.Run(block, x, layer.parameters().Where(p => p.requires_grad).ToArray())
            : (_, block, x) => block(x);

        var times = new List<double>();
        for (int step = 0; step <= steps; step++) // step 0 warms up
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var (sum, count, _, _) = Trainer.ScoreBatch(model, PackedData.Collate([row], CPU), runner);
            (sum / count).backward();
            optimizer.step();
            optimizer.zero_grad();
            if (step > 0) times.Add(clock.Elapsed.TotalSeconds);
        }
        double perStep = times.Average();
        Console.WriteLine($"train {modelName}: seq {seq}, checkpointing {checkpointing}, threads {get_num_threads()}: " +
                          $"{perStep:F2} s/step, {seq / perStep:F0} tokens/s, peak RSS {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        return 0;
    }

    /// <summary>gemma-2-2b's shapes (hidden 2304, 8/4 heads of 256, MLP 9216, vocab 256000) with 2 layers, random weights.</summary>
    static Gemma2Trainable TwoLayer2bShaped(LoraConfig lora)
    {
        var config = new Gemma2Config { NumHiddenLayers = 2 };
        var model = new Gemma2ForCausalLM(config, ScalarType.Float32, CPU);
        using (no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.EndsWith("norm.weight")) p.zero_(); else p.normal_(0, config.InitializerRange);
        model.ApplyLora(lora);
        return new Gemma2Trainable(model, lora, new ModelSource("gemma-2-2b-shaped-2-layers", "(random)", null));
    }

    static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
