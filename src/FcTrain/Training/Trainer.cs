using FcTrain.Settings;
using System.Diagnostics;
using System.Runtime.InteropServices;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models;
using FcTrain.Packing;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>What a run produced. <paramref name="TrainSplit"/>: the final adapter scored on the train split without dropout.</summary>
public sealed record TrainingResult(
    string AdapterDirectory, string RunDirectory, int Steps, int TotalSteps,
    double? TrainLoss, double? EvalLoss, double Seconds, bool Interrupted, SplitScore? TrainSplit = null);

/// <summary>
/// Next-token statistics of one batch (see <see cref="Trainer.ScoreBatch"/>): summed cross-entropy, trained positions,
/// argmax hits and the smallest margin of a target's logit over its best rival.
/// </summary>
public sealed record TokenScores(Tensor Sum, long Count, Tensor Correct, Tensor MinMargin);

/// <summary>
/// A split scored by the adapter in evaluation mode: mean loss per trained token, token accuracy (TRL's
/// mean_token_accuracy) and the smallest logit margin. A positive margin means greedy decoding of every
/// training prompt reproduces its target exactly: the split is memorised.
/// </summary>
public sealed record SplitScore(double Loss, double Accuracy, double MinMargin);

readonly record struct StepResult(double Loss, double Accuracy, double GradNorm, long Tokens);

/// <summary>
/// Supervised LoRA fine-tuning on packed rows, the loop of TRL's SFTTrainer with the course's settings:
/// setup (model, adapter, data, AdamW, schedule, resume) → train (accumulate, clip, step, log, checkpoint,
/// evaluate per epoch) → save (PEFT adapter, metrics, manifest). One dispose scope per micro-batch keeps
/// memory flat; the loss is a token mean over each accumulated batch, computed only where labels are set.
/// </summary>
public sealed class Trainer
{
    readonly FcTrainSettings options;
    readonly TextWriter log;
    readonly ITrainableModel model;
    readonly PackedData data;
    readonly Device device;
    readonly List<(string Name, Parameter Value)> trainable;
    readonly TorchSharp.Modules.AdamW optimizer;
    readonly LearningRate schedule;
    readonly int stepsPerEpoch;
    readonly string runDirectory;
    readonly MetricsLog metrics;
    readonly bool interactive = !Console.IsOutputRedirected;

    int step, startStep;          // startStep: where this process began (0, or the resumed checkpoint's step)
    long tokensSeen, tokensAtStart;
    double elapsedBefore; // seconds spent by the interrupted process(es) this run resumed from
    readonly Stopwatch clock = new();

    /// <summary>Raised after each optimizer step with the number of steps done (progress UIs, tests that interrupt a run).</summary>
    public event Action<int>? StepCompleted;

    /// <summary>
    /// Raised in each optimizer step (with its 0-based index) after the backward passes and before clipping: the
    /// trainable parameters' <c>grad</c> then hold the step's gradient of the token-mean loss (diagnostics, conformance tests).
    /// </summary>
    public event Action<int>? GradientsReady;

    // ------------------------------------------------------------------ setup

    /// <param name="model">The base model with LoRA attached (its adapter initialised from <see cref="FcTrainSettings.Seed"/>,
    /// or loaded from <see cref="FcTrainSettings.InitAdapter"/>).</param>
    public Trainer(FcTrainSettings options, ITrainableModel model, PackedData data, TextWriter log)
    {
        data.CheckVocabulary(model.VocabSize);
        Models.NativeMemory.KeepFreedMemoryForReuse();
        this.options = options;
        this.model = model;
        this.data = data;
        this.log = log;
        trainable = model.TrainableParameters().ToList();
        device = trainable[0].Value.device;

        optimizer = optim.AdamW(trainable.Select(t => t.Value), options.LearningRate,
            options.AdamBeta1, options.AdamBeta2, options.AdamEpsilon, options.WeightDecay);
        int batchesPerEpoch = (data.Train.Count + options.BatchSize - 1) / options.BatchSize;
        stepsPerEpoch = Math.Max(1, (batchesPerEpoch + options.GradientAccumulationSteps - 1) / options.GradientAccumulationSteps);
        int totalSteps = Math.Min(options.MaxSteps ?? int.MaxValue, options.Epochs * stepsPerEpoch);
        schedule = LearningRate.Cosine(options.LearningRate, totalSteps, options.WarmupRatio);

        AtomicDirectory.CleanUp(options.Output); // an adapter swap cut short by a killed process
        runDirectory = options.Resume ? LatestRun() : NewRun();
        metrics = new MetricsLog(runDirectory);
        // The seed fixes dropout masks (the data order has its own seeded permutation per epoch).
        random.manual_seed(options.Seed);
        if (options.Resume) ResumeFromLatestCheckpoint();
        model.Train(true);
    }

    // ------------------------------------------------------------------ train

    public TrainingResult Run(CancellationToken cancel)
    {
        log.WriteLine($"fctrain: training {options.Model} with LoRA r={options.Lora.Rank} on {data.Train.Count} packed rows " +
                      $"({data.TrainTokens} tokens, {data.TrainLabelled} trained) for {schedule.TotalSteps} steps on {device.type.ToString().ToLowerInvariant()}; run {runDirectory}");
        clock.Start();
        double? lastLoss = null, evalLoss = metrics.Points.LastOrDefault(p => p.Kind == "eval")?.Loss;
        var window = new List<StepResult>();
        while (step < schedule.TotalSteps)
        {
            if (cancel.IsCancellationRequested)
            {
                string saved = SaveCheckpoint();
                log.WriteLine($"fctrain: interrupted at step {step}/{schedule.TotalSteps}; checkpoint {saved}. Continue with 'fctrain train --resume'.");
                return Result(lastLoss, evalLoss, interrupted: true);
            }

            var stepResult = TrainStep();
            lastLoss = stepResult.Loss;
            window.Add(stepResult);
            step++;
            StepCompleted?.Invoke(step);

            if (step % options.LoggingSteps == 0 || step == schedule.TotalSteps)
            {
                LogTrain(window);
                window.Clear();
            }
            else if (interactive) ProgressBar();

            bool endOfEpoch = step % stepsPerEpoch == 0 || step == schedule.TotalSteps;
            if (endOfEpoch && options.EvalEachEpoch && data.Eval.Count > 0)
            {
                var eval = Score(data.Eval);
                evalLoss = eval.Loss;
                metrics.Add(new Metric("eval", step, Epoch(), eval.Loss, Accuracy: eval.Accuracy));
                log.WriteLine($"  eval  epoch {Epoch():F2}  eval_loss {eval.Loss:F4}  eval_accuracy {eval.Accuracy:P1}");
            }
            if (options.SaveSteps > 0 && step % options.SaveSteps == 0 && step < schedule.TotalSteps) SaveCheckpoint();
        }

        // ------------------------------------------------------------------ save
        string adapter = Path.Combine(options.Output, "adapter");
        SaveAdapterAtomically(adapter);
        SaveCheckpoint();
        var trainSplit = Score(data.Train);
        metrics.Add(new Metric("train_split", step, Epoch(), trainSplit.Loss, Accuracy: trainSplit.Accuracy, MinMargin: trainSplit.MinMargin));
        metrics.Flush();
        var result = Result(lastLoss, evalLoss, interrupted: false) with { TrainSplit = trainSplit };
        RunManifest.Write(runDirectory, adapter, options, data, model.Source, result);
        log.WriteLine($"  train split without dropout: loss {trainSplit.Loss:F4}  accuracy {trainSplit.Accuracy:P1}  min margin {trainSplit.MinMargin:F3}" +
                      (trainSplit.MinMargin > 0 ? " (memorised: greedy decoding reproduces every trained token)" : ""));
        log.WriteLine($"fctrain: done in {result.Seconds:F0} s: train_loss {lastLoss:F4}{(evalLoss is { } e ? $", eval_loss {e:F4}" : "")}; adapter {adapter}");
        return result;
    }

    /// <summary>One optimizer step: forward/backward over <see cref="FcTrainSettings.GradientAccumulationSteps"/> micro-batches, clip, AdamW.</summary>
    StepResult TrainStep()
    {
        var micro = MicroBatches(step);
        // Normalise by the trained tokens of the whole accumulated batch (transformers' num_items_in_batch),
        // so the gradient is that of one token-mean over the batch, not a mean of per-row means.
        long labelled = micro.Sum(b => b.Sum(PackedData.TrainedTokens));
        using var divisor = Math.Max(1, labelled).ToScalar();
        double lossSum = 0;
        long tokens = 0, correct = 0;
        foreach (var batch in micro)
        {
            using var scope = NewDisposeScope();
            var scores = ScoreBatch(model, PackedData.Collate(batch, device), LayerRunnerFor(options.GradientCheckpointing));
            var loss = scores.Sum / divisor;
            double value = Scalars.ToDouble(loss);
            if (!double.IsFinite(value)) throw NonFinite("loss", value);
            loss.backward();
            lossSum += value;
            correct += Scalars.ToInt64(scores.Correct);
            tokens += batch.Sum(r => r.InputIds.Length);
        }

        GradientsReady?.Invoke(step);
        using var stepScope = NewDisposeScope();
        double gradNorm = nn.utils.clip_grad_norm_(trainable.Select(t => t.Value), options.MaxGradNorm > 0 ? options.MaxGradNorm : double.PositiveInfinity);
        if (!double.IsFinite(gradNorm)) throw NonFinite("gradient norm", gradNorm);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = schedule.At(step);
        optimizer.step();
        optimizer.zero_grad();
        tokensSeen += tokens;
        return new StepResult(lossSum, (double)correct / Math.Max(1, labelled), gradNorm, tokens);
    }

    /// <summary>
    /// Next-token statistics over the trained positions of <paramref name="batch"/>: the summed cross-entropy
    /// (differentiable), their count, and (without gradients) how many the argmax predicts right and the smallest
    /// margin of the target's logit over the best other logit (positive: greedy decoding reproduces every target).
    /// Only those positions go through the LM head: gather the hidden states where a target is set, then
    /// project (N, C) → (N, V), instead of (B·T, V) logits that are mostly thrown away. On a CPU with AVX-512 and a float32
    /// head, the projection, soft-cap and cross-entropy are one kernel that never writes the logits (<see cref="HeadCrossEntropy"/>).
    /// </summary>
    public static TokenScores ScoreBatch(ITrainableModel model, Batch batch, LayerRunner runLayer)
    {
        var hidden = model.HiddenStates(batch, runLayer);                      // (B, T, C)
        var targets = batch.Targets.reshape(-1);                               // (B·T)
        using var ignored = PackedData.IgnoreIndex.ToScalar();
        var trained = nonzero(targets.ne(ignored)).squeeze(1);                 // (N)
        var selected = hidden.reshape(-1, hidden.shape[2]).index_select(0, trained); // (N, C)
        var labels = targets.index_select(0, trained);                         // (N)
        if (trained.shape[0] > 0 && model.FusedHead is { } fused) return fused.Score(selected, labels);
        // The head runs in chunks of positions whose logits stay under 32 MB: with a 256k vocabulary, (N, V) buffers
        // of hundreds of MB are mmap'd and page-faulted in afresh at every use (most of a CPU step's time went to the
        // kernel), while those under glibc's largest mmap threshold (32 MiB) are reused from the heap (see NativeMemory).
        // Not smaller: every chunk's products pack the whole head again (MKL's sgemm copies, 22 % of a step's profile
        // at 16 MB chunks); 32 MB chunks made an epoch of the samples 11 % faster (36 s -> 32 s, `fctrain train --epochs 1`).
        long n = trained.shape[0], chunk = Math.Max(1, 32_000_000L / (4 * model.VocabSize));
        Tensor? sum = null;
        Tensor correct = zeros([], ScalarType.Int64, hidden.device);
        using var positiveInfinity = double.PositiveInfinity.ToScalar();
        using var negativeInfinity = float.NegativeInfinity.ToScalar();
        Tensor minMargin = full([], positiveInfinity, ScalarType.Float32, hidden.device);
        for (long start = 0; start < n; start += chunk)
        {
            // A scope per chunk: TorchSharp frees a tensor when its scope ends, so without it every chunk's (n, V)
            // intermediates (head output, LoRA update, soft-cap steps, log-softmax) would live until the micro-batch
            // ends. Autograd still holds the few it saves for backward.
            using var chunkScope = NewDisposeScope();
            long length = Math.Min(chunk, n - start);
            var target = labels.narrow(0, start, length).unsqueeze(1);             // (n, 1)
            var logits = model.Logits(selected.narrow(0, start, length));          // (n, V)
            if (logits.dtype is ScalarType.BFloat16 or ScalarType.Float16) logits = logits.to(ScalarType.Float32); // as transformers upcasts
            var loss = nn.functional.cross_entropy(logits, target.squeeze(1), reduction: nn.Reduction.Sum);
            if (sum is null) sum = loss.MoveToOuterDisposeScope();
            else sum.add_(loss, alpha: Scalars.One);   // in place, so nothing of a later chunk outlives its scope
            using (no_grad())
            {
                var gold = logits.gather(1, target).squeeze(1);                                        // (n), a copy
                // The best other logit: the target's own set to −∞ in place (backward reads the log-softmax's output,
                // never these logits), then one max. A top-2 took 18x as long (9.8 ms against 0.5 ms a chunk).
                var rival = logits.scatter_(1, target, full(length, 1, negativeInfinity, logits.dtype, logits.device)).amax(1);   // (n)
                var margin = gold - rival;
                correct.add_(margin.gt(Scalars.Zero).sum(), alpha: Scalars.One);
                minMargin.copy_(minimum(minMargin, margin.min()));
            }
        }
        return new TokenScores(sum ?? zeros([], ScalarType.Float32, hidden.device), n, correct, minMargin);
    }

    /// <summary>A layer's non-saved intermediates (attention scores before the soft-cap and the mask, …) go when it returns.</summary>
    static Tensor RunDirectly(nn.Module layer, Func<Tensor, Tensor> block, Tensor input)
    {
        using var scope = NewDisposeScope();
        return block(input).MoveToOuterDisposeScope();
    }

    /// <summary>With checkpointing each layer keeps only its input; its LoRA parameters go in explicitly (see <see cref="GradientCheckpoint"/>).</summary>
    public static LayerRunner LayerRunnerFor(bool checkpointing) => checkpointing
        ? (layer, block, input) => GradientCheckpoint.Run(block, input, layer.parameters().Where(p => p.requires_grad).ToArray())
        : RunDirectly;

    /// <summary>The micro-batches of optimizer step <paramref name="s"/>: a seeded permutation per epoch, cut in batches, grouped for accumulation.</summary>
    List<PackedRow[]> MicroBatches(int s)
    {
        int epoch = s / stepsPerEpoch, within = s % stepsPerEpoch;
        var order = Enumerable.Range(0, data.Train.Count).ToArray();
        // System.Random with a seed is a fixed algorithm across runs and processes (HashCode.Combine is not: it is salted per process).
        new Random(unchecked(options.Seed * 1_000_003 + epoch) & int.MaxValue).Shuffle(order);
        return order.Chunk(options.BatchSize)
            .Skip(within * options.GradientAccumulationSteps).Take(options.GradientAccumulationSteps)
            .Select(chunk => chunk.Select(i => data.Train[i]).ToArray())
            .ToList();
    }

    /// <summary>Token statistics over <paramref name="rows"/> (the eval split, or the train split at the end), without dropout or gradients.</summary>
    SplitScore Score(IReadOnlyList<PackedRow> rows)
    {
        model.Train(false);
        double sum = 0, minMargin = double.PositiveInfinity;
        long count = 0, correct = 0;
        using (no_grad())
        {
            foreach (var row in rows)
            {
                using var scope = NewDisposeScope();
                var scores = ScoreBatch(model, PackedData.Collate([row], device), RunDirectly);
                sum += Scalars.ToDouble(scores.Sum);
                count += scores.Count;
                correct += Scalars.ToInt64(scores.Correct);
                minMargin = Math.Min(minMargin, Scalars.ToDouble(scores.MinMargin));
            }
        }
        model.Train(true);
        return new SplitScore(sum / Math.Max(1, count), (double)correct / Math.Max(1, count), minMargin);
    }

    // ------------------------------------------------------------------ logging, checkpoints

    double Epoch() => (double)step / stepsPerEpoch;
    double Elapsed() => elapsedBefore + clock.Elapsed.TotalSeconds;

    void LogTrain(List<StepResult> window)
    {
        double loss = window.Average(w => w.Loss), accuracy = window.Average(w => w.Accuracy), gradNorm = window[^1].GradNorm;
        double seconds = clock.Elapsed.TotalSeconds;
        double tokensPerSecond = (tokensSeen - tokensAtStart) / Math.Max(1e-9, seconds);
        var eta = TimeSpan.FromSeconds(seconds / Math.Max(1, step - startStep) * (schedule.TotalSteps - step));
        double lr = schedule.At(step - 1);
        metrics.Add(new Metric("train", step, Epoch(), loss, lr, gradNorm, tokensPerSecond, Elapsed(), accuracy));
        metrics.Flush();
        if (interactive) log.Write('\r');
        log.WriteLine($"  step {step}/{schedule.TotalSteps}  epoch {Epoch():F2}  loss {loss:F4}  accuracy {accuracy:P1}  lr {lr:E2}  grad_norm {gradNorm:F3}  tokens/s {tokensPerSecond:F0}  ETA {eta:hh\\:mm\\:ss}");
    }

    void ProgressBar()
    {
        const int width = 30;
        int filled = width * step / schedule.TotalSteps;
        log.Write($"\r  [{new string('#', filled)}{new string('.', width - filled)}] {step}/{schedule.TotalSteps}");
    }

    string SaveCheckpoint()
    {
        var state = new TrainingState(step, schedule.TotalSteps, tokensSeen, Elapsed(), RngState(), RunManifest.SettingsHash(options, data));
        metrics.Flush();
        return TrainingCheckpoint.Save(Path.Combine(runDirectory, "checkpoints"), state, trainable, optimizer, model.SaveAdapter);
    }

    /// <summary>Writes the adapter beside its final place and swaps it in, so readers see the old adapter or the new one, never half of one.</summary>
    void SaveAdapterAtomically(string adapter) => AtomicDirectory.Replace(adapter, model.SaveAdapter);

    void ResumeFromLatestCheckpoint()
    {
        // A killed process may have left a checkpoint or a metrics file half written: drop those, keep the complete ones.
        AtomicDirectory.CleanUp(runDirectory);
        AtomicDirectory.CleanUp(Path.Combine(runDirectory, "checkpoints"));
        var latest = TrainingCheckpoint.List(Path.Combine(runDirectory, "checkpoints")).LastOrDefault();
        if (latest is null)
        {
            // Killed before its first checkpoint: the run starts again from its beginning (the model's adapter is
            // initialised from the seed and the RNG is seeded), which is exactly what it had done before.
            metrics.Load(0);
            log.WriteLine($"fctrain: resumed {runDirectory} at step 0: it has no complete checkpoint yet, so it starts again from the beginning");
            return;
        }
        var state = TrainingCheckpoint.Load(latest, trainable, optimizer);
        if (state.SettingsHash != RunManifest.SettingsHash(options, data) || state.TotalSteps != schedule.TotalSteps)
            throw FcTrainException.Error("FCT0312", "the settings or the data differ from those of the run being resumed, so it would not continue the same run. Resume with the same fctrain.json, options and shards, or start a new run without --resume.", latest);
        step = startStep = state.Step;
        tokensSeen = tokensAtStart = state.TokensSeen;
        elapsedBefore = state.ElapsedSeconds;
        using var rng = tensor(state.RngState, dtype: ScalarType.Byte);
        random.set_rng_state(rng);
        metrics.Load(step);
        log.WriteLine($"fctrain: resumed {runDirectory} at step {step} from {latest}");
    }

    static byte[] RngState()
    {
        using var state = random.get_rng_state();
        return state.data<byte>().ToArray();
    }

    string NewRun()
    {
        string id = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss");
        string dir = Path.Combine(options.Output, "runs", id);
        for (int i = 2; Directory.Exists(dir); i++) dir = Path.Combine(options.Output, "runs", $"{id}-{i}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    string LatestRun()
    {
        string runs = Path.Combine(options.Output, "runs");
        return (Directory.Exists(runs) ? Directory.GetDirectories(runs).Order(StringComparer.Ordinal).LastOrDefault() : null)
            ?? throw FcTrainException.Error("FCT0311", $"--resume found no run under {runs}. Start a new run without --resume.", runs);
    }

    TrainingResult Result(double? trainLoss, double? evalLoss, bool interrupted) =>
        new(Path.Combine(options.Output, "adapter"), runDirectory, step, schedule.TotalSteps, trainLoss, evalLoss, Elapsed(), interrupted);

    FcTrainException NonFinite(string what, double value)
    {
        var last = TrainingCheckpoint.List(Path.Combine(runDirectory, "checkpoints")).LastOrDefault();
        return FcTrainException.Error("FCT0320",
            $"the {what} became {value} at step {step + 1}: training diverged. " +
            (last is null ? "No checkpoint was written yet. " : $"The last good checkpoint is intact: {last}. ") +
            "Lower the learning rate (train.learningRate), keep gradient clipping on (train.maxGradNorm), or train in float32.",
            runDirectory);
    }
}
