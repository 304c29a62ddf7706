using FcTrain.Settings;
using FcTrain.Diagnostics;
using FcTrain.Packing;
using FcTrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

[Collection(TorchRngCollection.Name)]
public class TrainerTests : IDisposable
{
    readonly string output = Directory.CreateTempSubdirectory("fctrain-trainer-").FullName;
    public void Dispose() => Directory.Delete(output, recursive: true);

    /// <summary>Rows of two packed "conversations": a 3-token prompt (not trained) and a reply that repeats it shifted.</summary>
    internal static PackedData Data(int rows, int seed = 3)
    {
        var rng = new Random(seed);
        PackedRow Row()
        {
            var ids = new List<int>(); var labels = new List<int>(); var positions = new List<int>(); var docs = new List<int>();
            for (int doc = 0; doc < 2; doc++)
            {
                int[] prompt = [rng.Next(2, 12), rng.Next(2, 12), rng.Next(2, 12)];
                int[] reply = [.. prompt.Select(p => p + 10), 1];
                int[] conv = [.. prompt, .. reply];
                for (int t = 0; t < conv.Length; t++)
                {
                    ids.Add(conv[t]); labels.Add(t < prompt.Length ? PackedData.IgnoreIndex : conv[t]); positions.Add(t); docs.Add(doc);
                }
            }
            return new PackedRow([.. ids], [.. labels], [.. positions], [.. docs]);
        }
        return new PackedData
        {
            Train = Enumerable.Range(0, rows).Select(_ => Row()).ToList(),
            Eval = Enumerable.Range(0, 2).Select(_ => Row()).ToList(),
            ManifestJson = "{\"datasets\":[]}",
            ManifestSha256 = "test",
        };
    }

    FcTrainSettings Options() => new()
    {
        Output = output, Epochs = 6, LearningRate = 1e-1, WarmupRatio = 0.1, GradientAccumulationSteps = 2,
        LoggingSteps = 2, SaveSteps = 3, Seed = 5,
    };

    static Tensor[] Snapshot(ITrainableModel model) => model.TrainableParameters().Select(p => p.Value.detach().clone()).ToArray();

    [Fact]
    public void Loss_covers_exactly_the_trained_next_tokens_of_each_document()
    {
        using var scope = NewDisposeScope();
        // Documents 0 and 1 packed; label 9 on the first token of document 1 must NOT be predicted from document 0.
        var row = new PackedRow([2, 3, 4, 5, 6, 7, 8], [-100, -100, 5, 6, 9, -100, 7], [0, 1, 2, 3, 0, 1, 2], [0, 0, 0, 0, 1, 1, 1]);
        var model = new ToyLoraLm(dtype: ScalarType.Float64);
        model.Train(false);
        var batch = PackedData.Collate([row], CPU);
        Assert.Equal([-100L, 5, 6, -100, -100, 7, -100], batch.Targets.reshape(-1).data<long>().ToArray());

        var (sum, count, correct, minMargin) = Trainer.ScoreBatch(model, batch, (_, block, x) => block(x));
        Assert.Equal(3, count);
        Assert.Equal(3, PackedData.TrainedTokens(row));

        // Reference: logits at every position, cross-entropy picked by hand at the three trained positions.
        var hidden = model.HiddenStates(batch, (_, block, x) => block(x)).reshape(7, -1);
        var logProbs = model.Logits(hidden).log_softmax(-1);
        double expected = -(logProbs[1, 5].item<double>() + logProbs[2, 6].item<double>() + logProbs[5, 7].item<double>());
        Assert.Equal(expected, sum.item<double>(), 10);

        // Accuracy and margin by hand: the target's logit against the best other logit at each trained position.
        var logits = model.Logits(hidden);
        var margins = new[] { (1, 5), (2, 6), (5, 7) }.Select(p =>
        {
            var scores = logits[p.Item1].clone();
            double gold = scores[p.Item2].item<double>();
            scores[p.Item2] = double.NegativeInfinity;
            return gold - scores.max().item<double>();
        }).ToArray();
        Assert.Equal(margins.Count(m => m > 0), correct.ToInt64());
        Assert.Equal(margins.Min(), minMargin.ToDouble(), 5);
    }

    [Fact]
    [Trait("Category", "Slow")]   // ~15 s here: a 262k-row head
    public void Head_chunks_leave_only_their_results_in_the_callers_scope()
    {
        // With a 262,144-token vocabulary the head runs in chunks of 16 positions (16 MB of float32 logits each).
        // Their intermediates must go with each chunk: what the caller's scope holds afterwards may not grow with
        // the number of chunks (autograd keeps what backward needs through its own references).
        var model = new ToyLoraLm(vocab: 262_144, hidden: 8, layerCount: 1, rank: 2);
        int Held(int trained)
        {
            var ids = Enumerable.Range(3, 200).ToArray();
            var row = new PackedRow(ids, ids.Select((id, t) => t >= 200 - trained ? id : -100).ToArray(), Enumerable.Range(0, 200).ToArray(), new int[200]);
            using var scope = NewDisposeScope();
            var batch = PackedData.Collate([row], CPU);
            int before = scope.DisposablesCount;
            var scores = Trainer.ScoreBatch(model, batch, Trainer.LayerRunnerFor(checkpointing: false));
            Assert.Equal(trained, scores.Count);
            scores.Sum.backward();
            return scope.DisposablesCount - before;
        }
        Assert.Equal(Held(16), Held(64));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Lora_gradients_agree_with_finite_differences(bool checkpointing)
    {
        using var scope = NewDisposeScope();
        var model = new ToyLoraLm(dtype: ScalarType.Float64, dropout: 0.0);
        using (no_grad())
            foreach (var (_, p) in model.TrainableParameters()) p.copy_(randn_like(p) * 0.3); // B = 0 would hide A's gradient
        var batch = PackedData.Collate(Data(2).Train, CPU);
        LayerRunner runner = checkpointing
            ? (layer, block, x) => GradientCheckpoint.Run(block, x, layer.parameters().Where(p => p.requires_grad).ToArray())
            : (_, block, x) => block(x);
        double Loss() => Trainer.ScoreBatch(model, batch, runner).Sum.item<double>();

        Trainer.ScoreBatch(model, batch, runner).Sum.backward();
        const double eps = 1e-6;
        foreach (var (name, p) in model.TrainableParameters())
        {
            var grad = p.grad!.reshape(-1);
            var flat = p.detach().view(-1);
            foreach (long i in new long[] { 0, flat.shape[0] / 2, flat.shape[0] - 1 })
            {
                double saved = flat[i].item<double>();
                using (no_grad()) flat[i] = saved + eps;
                double plus = Loss();
                using (no_grad()) flat[i] = saved - eps;
                double minus = Loss();
                using (no_grad()) flat[i] = saved;
                double numeric = (plus - minus) / (2 * eps);
                Assert.True(Math.Abs(numeric - grad[i].item<double>()) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                    $"{name}[{i}]: autograd {grad[i].item<double>()} vs finite difference {numeric}");
            }
        }
    }

    [Fact]
    public void Loss_falls_and_files_are_written()
    {
        var model = new ToyLoraLm();
        var data = Data(8);
        var trainer = new Trainer(Options(), model, data, TextWriter.Null);
        var result = trainer.Run(CancellationToken.None);

        var metrics = File.ReadAllLines(Path.Combine(result.RunDirectory, "metrics.jsonl"));
        double[] Losses(string kind) => metrics.Where(l => l.Contains($"\"{kind}\""))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();
        var train = Losses("train");
        var evals = Losses("eval");
        Assert.Equal(6, evals.Length); // one per epoch
        Assert.True(train[^1] < 0.5 * train[0], $"train loss {string.Join(", ", train)}");
        Assert.True(evals[^1] < 0.75 * evals[0], $"eval loss {string.Join(", ", evals)}");
        Assert.Equal(24, result.Steps); // 6 epochs × ceil(8 rows / 2 accumulated)

        // The final score of the train split without dropout is logged, returned and kept in run.json.
        var split = System.Text.Json.JsonDocument.Parse(metrics.Single(l => l.Contains("\"train_split\""))).RootElement;
        var score = result.TrainSplit!;
        Assert.Equal(score.Loss, split.GetProperty("loss").GetDouble());
        Assert.Equal(score.Accuracy, split.GetProperty("mean_token_accuracy").GetDouble());
        Assert.InRange(score.Accuracy, 0.0, 1.0);
        Assert.True(double.IsFinite(score.MinMargin));
        Assert.True(score.Loss < train[0], $"train split loss {score.Loss} vs first logged {train[0]}");
        var manifest = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(result.RunDirectory, "run.json"))).RootElement;
        Assert.Equal(score.MinMargin > 0, manifest.GetProperty("result").GetProperty("trainSplit").GetProperty("memorised").GetBoolean());
        Assert.True(File.Exists(Path.Combine(result.RunDirectory, "loss.png")));
        Assert.True(File.Exists(Path.Combine(result.RunDirectory, "run.json")));
        Assert.True(File.Exists(Path.Combine(result.AdapterDirectory, "fctrain-run.json")));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(output, "*", SearchOption.AllDirectories), f => f.Contains(".partial-") || f.EndsWith(".tmp"));
    }

    [Fact]
    public void Resumed_run_equals_the_uninterrupted_run_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var data = Data(8);
        var uninterrupted = new ToyLoraLm();
        new Trainer(Options() with { Output = Path.Combine(output, "a") }, uninterrupted, data, TextWriter.Null).Run(CancellationToken.None);

        // Interrupt after step 7 (between checkpoints: the Ctrl-C path saves its own), then resume into a fresh model.
        var options = Options() with { Output = Path.Combine(output, "b") };
        using var stop = new CancellationTokenSource();
        var first = new Trainer(options, new ToyLoraLm(), data, TextWriter.Null);
        first.StepCompleted += s => { if (s == 7) stop.Cancel(); };
        var partial = first.Run(stop.Token);
        Assert.True(partial.Interrupted);
        Assert.Equal(7, partial.Steps);

        var resumedModel = new ToyLoraLm();
        using (no_grad()) // scramble the adapter: everything must come from the checkpoint
            foreach (var (_, p) in resumedModel.TrainableParameters()) p.copy_(randn_like(p));
        var resumed = new Trainer(options with { Resume = true }, resumedModel, data, TextWriter.Null).Run(CancellationToken.None);
        Assert.False(resumed.Interrupted);
        Assert.Equal(partial.RunDirectory, resumed.RunDirectory);

        var expected = Snapshot(uninterrupted);
        var actual = Snapshot(resumedModel);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].eq(actual[i]).all().item<bool>(), $"parameter {i} differs");
    }

    [Fact]
    public void Resuming_a_run_killed_before_its_first_checkpoint_starts_it_again_from_step_zero()
    {
        using var scope = NewDisposeScope();
        var data = Data(4);
        var options = Options() with { Epochs = 2, SaveSteps = 0 };
        var uninterrupted = new ToyLoraLm();
        new Trainer(options with { Output = Path.Combine(output, "a") }, uninterrupted, data, TextWriter.Null).Run(CancellationToken.None);

        // A process that made its run folder and was killed before writing any checkpoint.
        _ = new Trainer(options with { Output = Path.Combine(output, "b") }, new ToyLoraLm(), data, TextWriter.Null);
        var log = new StringWriter();
        var resumedModel = new ToyLoraLm();
        var resumed = new Trainer(options with { Output = Path.Combine(output, "b"), Resume = true }, resumedModel, data, log).Run(CancellationToken.None);

        Assert.Contains("at step 0: it has no complete checkpoint yet", log.ToString());
        Assert.Equal(resumed.TotalSteps, resumed.Steps);
        var expected = Snapshot(uninterrupted);
        var actual = Snapshot(resumedModel);
        for (int i = 0; i < expected.Length; i++) Assert.True(expected[i].eq(actual[i]).all().item<bool>(), $"parameter {i} differs");
    }

    [Fact]
    public void Resume_with_other_settings_is_refused()
    {
        var data = Data(4);
        using var stop = new CancellationTokenSource();
        var first = new Trainer(Options(), new ToyLoraLm(), data, TextWriter.Null);
        first.StepCompleted += s => { if (s == 1) stop.Cancel(); };
        first.Run(stop.Token);
        var e = Assert.Throws<FcTrainException>(() => new Trainer(Options() with { Resume = true, LearningRate = 1e-3 }, new ToyLoraLm(), data, TextWriter.Null));
        Assert.Equal("FCT0312", e.Diagnostic.Code);
    }

    [Fact]
    public void Non_finite_loss_stops_with_FCT0320_and_keeps_the_last_checkpoint()
    {
        var data = Data(8);
        var model = new ToyLoraLm();
        var trainer = new Trainer(Options() with { SaveSteps = 1 }, model, data, TextWriter.Null);
        trainer.StepCompleted += s => { if (s == 5) model.Poison(data.Train[0].InputIds[0]); };
        var e = Assert.Throws<FcTrainException>(() => trainer.Run(CancellationToken.None));
        Assert.Equal("FCT0320", e.Diagnostic.Code);
        Assert.Contains("step-000005", e.Message);
        var checkpoints = TrainingCheckpoint.List(Path.Combine(e.Diagnostic.File, "checkpoints"));
        Assert.EndsWith("step-000005", checkpoints[^1]);
        Assert.True(File.Exists(Path.Combine(checkpoints[^1], "trainable.bin")));
    }
}
