using FcTrain.Tokenization;
using FcTrain.Settings;
using System.Diagnostics;
using System.Globalization;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Packing;
using FcTrain.Training;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>train [--model tiny|2b-2layer] [--seq N] [--steps N] [--checkpointing true|false] [--trained-share F]
/// [--shards DIR] [--threads N] [--lr LR]</c>: LoRA training steps (the course's adapter: r=16 on all projections,
/// embeddings and head) with the trainer's allocator settings, loss (<see cref="Trainer.ScoreBatch"/>), layer runner,
/// gradient clipping at 1 and AdamW (weight decay 0.1). The rows: with <c>--shards</c>, the train split of those packed
/// shards in their order (one epoch, or the first --steps rows): the job bench/compare-pytorch runs in PyTorch too;
/// otherwise one random packed row of N tokens, the last --trained-share of them trained (default 0.1, as in the
/// samples), --steps times. The first step warms up and is not timed. Prints the first step's loss, tokens/s and the
/// process's peak RSS (VmHWM; peak RSS is per process, so run once per setting).
/// </summary>
public static class TrainBenchmark
{
    public static int Run(string[] args)
    {
        string modelName = Arg(args, "--model") ?? "tiny";
        string? shards = Arg(args, "--shards");
        bool checkpointing = bool.Parse(Arg(args, "--checkpointing") ?? (shards is null ? "true" : "false"));
        double lr = double.Parse(Arg(args, "--lr") ?? "1e-4", CultureInfo.InvariantCulture);
        if (Arg(args, "--threads") is { } threads) set_num_threads(int.Parse(threads));
        NativeMemory.KeepFreedMemoryForReuse();   // as the trainer does

        random.manual_seed(0);
        var lora = new LoraSettings();
        ITrainableModel model = modelName == "tiny"
            ? Gemma2Trainable.Attach(ModelSession.Open(new FcTrainSettings { Device = "cpu", Dtype = "float32" }, null, ToolTokenMode.Reserved, _ => { }), lora)
            : TwoLayer2bShaped(lora.ToConfig());
        var vocab = modelName == "tiny" ? TinyModel.Config.VocabSize : new Gemma2Config().VocabSize;

        IReadOnlyList<PackedRow> rows;
        if (shards is not null)
        {
            var train = ShardReader.Read(shards).Train;
            rows = Arg(args, "--steps") is { } limit ? train.Take(int.Parse(limit) + 1).ToList() : train;
        }
        else
        {
            int seq = int.Parse(Arg(args, "--seq") ?? (modelName == "tiny" ? "1500" : "512"));
            // The samples train on ~10 % of their tokens (model turns); the head runs only on those.
            double trainedShare = double.Parse(Arg(args, "--trained-share") ?? "0.1", CultureInfo.InvariantCulture);
            var rng = new Random(1);
            var ids = Enumerable.Range(0, seq).Select(_ => rng.Next(3, vocab)).ToArray();
            var row = new PackedRow(ids, ids.Select((id, t) => t < seq * (1 - trainedShare) ? -100 : id).ToArray(), Enumerable.Range(0, seq).ToArray(), new int[seq]);
            rows = Enumerable.Repeat(row, 1 + int.Parse(Arg(args, "--steps") ?? "3")).ToList();   // step 0 warms up
        }

        var parameters = model.TrainableParameters().Select(p => p.Value).ToList();
        var optimizer = optim.AdamW(parameters, lr, weight_decay: 0.1);
        var runner = Trainer.LayerRunnerFor(checkpointing);
        double seconds = 0, firstLoss = double.NaN;
        long tokens = 0;
        for (int step = 0; step < rows.Count; step++)
        {
            using var scope = NewDisposeScope();
            var clock = Stopwatch.StartNew();
            var (sum, count, _, _) = Trainer.ScoreBatch(model, PackedData.Collate([rows[step]], CPU), runner);
            var loss = sum / Math.Max(1, count);
            loss.backward();
            nn.utils.clip_grad_norm_(parameters, 1.0);
            optimizer.step();
            optimizer.zero_grad();
            if (step == 0) firstLoss = loss.item<float>();
            else
            {
                seconds += clock.Elapsed.TotalSeconds;
                tokens += rows[step].InputIds.Length;
            }
        }
        long peak = PeakRssMiB();
        Console.WriteLine($"train {modelName}: {rows.Count} steps{(shards is null ? $" on a {rows[0].InputIds.Length}-token row" : $" on {shards}")}, " +
                          $"checkpointing {checkpointing}, threads {get_num_threads()}: {seconds / Math.Max(1, rows.Count - 1):F2} s/step, " +
                          $"{tokens / seconds:F0} tokens/s, peak RSS {peak} MiB");
        Console.WriteLine(FormattableString.Invariant(
            $"RESULT side=fctrain job=train threads={get_num_threads()} steps={rows.Count} first_loss={firstLoss:F8} tokens_per_s={tokens / seconds:F1} peak_rss_mib={peak}"));
        return 0;
    }

    /// <summary>The process's peak resident set (VmHWM), what <c>/usr/bin/time</c> reports as maximum resident set size.</summary>
    internal static long PeakRssMiB() =>
        File.ReadLines("/proc/self/status").Where(l => l.StartsWith("VmHWM:", StringComparison.Ordinal))
            .Select(l => long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024).FirstOrDefault(-1);

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

    internal static string? Arg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }
}
