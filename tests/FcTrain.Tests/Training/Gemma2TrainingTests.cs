using FcTrain.Settings;
using FcTrain.Tokenization;
using FcTrain.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Packing;
using FcTrain.SafeTensors;
using FcTrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

/// <summary>The trainer on the real Gemma-2 (the conformance checkpoint: every Gemma-2 feature active, vocab 384).</summary>
[Collection(TorchRngCollection.Name)]
public class Gemma2TrainingTests : IDisposable
{
    static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2/tiny-f32");
    readonly string output = Directory.CreateTempSubdirectory("fctrain-gemma-train-").FullName;
    public void Dispose() => Directory.Delete(output, recursive: true);

    static PackedData Data(int rows)
    {
        var rng = new Random(11);
        PackedRow Row()
        {
            var ids = new List<int>(); var labels = new List<int>(); var pos = new List<int>(); var docs = new List<int>();
            for (int doc = 0; doc < 2; doc++)
            {
                int[] prompt = [2, rng.Next(10, 100), rng.Next(10, 100), rng.Next(10, 100)];
                int[] reply = [.. prompt.Skip(1).Select(p => p + 100), 1];
                int[] conv = [.. prompt, .. reply];
                for (int t = 0; t < conv.Length; t++) { ids.Add(conv[t]); labels.Add(t < prompt.Length ? -100 : conv[t]); pos.Add(t); docs.Add(doc); }
            }
            return new PackedRow([.. ids], [.. labels], [.. pos], [.. docs]);
        }
        return new PackedData
        {
            Train = Enumerable.Range(0, rows).Select(_ => Row()).ToList(),
            Eval = [Row()],
            ManifestJson = "{}",
            ManifestSha256 = "test",
        };
    }

    static Gemma2Trainable Load(LoraSettings lora, int seed = 1)
    {
        random.manual_seed(seed);
        return Gemma2Trainable.Attach(Session(), lora);
    }

    static ModelSession Session() =>
        ModelSession.Open(new FcTrainSettings { Model = Folder, Device = "cpu", Dtype = "float32" }, adapter: null, ToolTokenMode.Reserved, _ => { });

    static string Adapter(string model) => Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2", model, "adapter");

    [Fact]
    public void Init_adapter_defines_the_lora_shape_and_gives_its_weights()
    {
        using var scope = NewDisposeScope();
        var options = new FcTrainSettings { InitAdapter = Adapter("tiny-f32"), Lora = new LoraSettings { Rank = 16, Alpha = 64, Dropout = 0.2 } }
            .WithInitAdapterShape();
        Assert.Equal((4, 8.0, 0.2), (options.Lora.Rank, options.Lora.Alpha, options.Lora.Dropout)); // the adapter's r and alpha, our dropout

        var model = Gemma2Trainable.Attach(Session(), new LoraSettings(), options.InitAdapter);
        var file = SafeTensorsFile.Open(Path.Combine(options.InitAdapter!, PeftAdapter.WeightsFile));
        var parameters = model.TrainableParameters();
        Assert.Equal(file.Tensors.Keys.Order(), parameters.Select(p => PeftAdapter.ToPeftKey(p.Name)).Order());
        foreach (var (name, value) in parameters)
            Assert.True(file.Read(PeftAdapter.ToPeftKey(name)).eq(value).all().item<bool>(), name);
    }

    [Fact]
    public void Init_adapter_of_another_model_names_the_first_tensor_that_does_not_fit()
    {
        var e = Assert.Throws<FcTrainException>(() =>
            Gemma2Trainable.Attach(Session(), new LoraSettings(), Adapter("tiny-bf16-sharded")));
        Assert.Equal("FCT0212", e.Diagnostic.Code);
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight' has shape [128, 4], the model expects [64, 4]", e.Message);
    }

    static Tensor Logits(ITrainableModel model, Batch batch) =>
        model.Logits(model.HiddenStates(batch, (_, block, x) => block(x)));

    [Fact]
    public void Step_zero_equals_the_base_model()
    {
        using var scope = NewDisposeScope();
        var batch = PackedData.Collate(Data(1).Train, CPU);
        var baseModel = ModelLoader.Load(Folder, ScalarType.Float32, CPU);
        var expected = baseModel.forward(batch.InputIds, batch.PositionIds, batch.DocumentIds);
        var adapted = Load(new LoraSettings { Dropout = 0 });
        adapted.Train(false);
        Assert.Equal(0.0, (Logits(adapted, batch) - expected).abs().max().item<float>());
    }

    [Fact]
    public void Checkpointed_gradients_equal_plain_gradients_with_dropout()
    {
        using var scope = NewDisposeScope();
        var batch = PackedData.Collate(Data(2).Train, CPU);
        Tensor[] Grads(bool checkpointing)
        {
            var model = Load(new LoraSettings { Rank = 4, Dropout = 0.3 });
            using (no_grad()) foreach (var (_, p) in model.TrainableParameters()) p.copy_(randn_like(p) * 0.05);
            model.Train(true);
            random.manual_seed(3);
            LayerRunner runner = checkpointing
                ? (layer, block, x) => GradientCheckpoint.Run(block, x, layer.parameters().Where(p => p.requires_grad).ToArray())
                : (_, block, x) => block(x);
            Trainer.ScoreBatch(model, batch, runner).Sum.backward();
            return model.TrainableParameters().Select(p => p.Value.grad!.clone()).ToArray();
        }
        var plain = Grads(false);
        var checkpointed = Grads(true);
        Assert.Equal(plain.Length, checkpointed.Length);
        for (int i = 0; i < plain.Length; i++)
            Assert.True(allclose(plain[i], checkpointed[i], rtol: 1e-4, atol: 1e-6), $"gradient {i} differs");
    }

    [Fact]
    public void Trained_adapter_lowers_the_loss_and_reloads_to_the_same_logits()
    {
        using var scope = NewDisposeScope();
        var data = Data(8);
        var options = new FcTrainSettings
        {
            Output = output, Epochs = 5, LearningRate = 5e-3, GradientAccumulationSteps = 2, LoggingSteps = 5, SaveSteps = 0,
            Lora = new LoraSettings { Rank = 4, Alpha = 8 },
        };
        var model = Load(options.Lora);
        var result = new Trainer(options, model, data, TextWriter.Null).Run(CancellationToken.None);

        var train = File.ReadAllLines(Path.Combine(result.RunDirectory, "metrics.jsonl")).Where(l => l.Contains("\"train\""))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();
        Assert.True(train[^1] < 0.8 * train[0], $"train loss {string.Join(", ", train)}");

        // The PEFT folder on disk, loaded onto a fresh base model, gives the trained model's logits.
        var batch = PackedData.Collate(data.Eval, CPU);
        model.Train(false);
        var trained = Logits(model, batch);
        var reloaded = ModelLoader.Load(Folder, ScalarType.Float32, CPU);
        var config = PeftAdapter.Load(reloaded, result.AdapterDirectory);
        reloaded.train(false);
        Assert.Equal(options.Lora.ToConfig().Rank, config.Rank);
        var logits = reloaded.forward(batch.InputIds, batch.PositionIds, batch.DocumentIds);
        Assert.True((trained - logits).abs().max().item<float>() <= 1e-6f);
        Assert.True((trained - Logits(Load(options.Lora, seed: 2), batch)).abs().max().item<float>() > 1e-3f); // it did change
    }
}
