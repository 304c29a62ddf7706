using FcTrain.Tokenization;
using FcTrain.Settings;
using System.Text.Json;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Packing;
using FcTrain.SafeTensors;
using FcTrain.Tests.Models.Gemma2;
using FcTrain.Training;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

/// <summary>
/// Numeric oracle for one LoRA training step (llm.c's check_tensor): PyTorch autograd + torch.optim.AdamW from the
/// conformance adapter on golden.json's packed row (TestData/conformance/gemma2/*/train_step, see the README there),
/// reproduced through the real trainer: <see cref="FcTrainSettings.InitAdapter"/>, <see cref="Trainer.Run"/>, the saved adapter.
/// </summary>
[Collection(TorchRngCollection.Name)]
public class TrainStepConformanceTests(ITestOutputHelper output) : IDisposable
{
    const double LossTolerance = 1e-5;
    const double GradTolerance = 1e-4;       // relative to the tensor's largest |grad|, and for the global norm
    const double AdapterTolerance = 1e-5;    // absolute, where |grad| > Significant · max |grad| or grad == 0
    const double Significant = 1e-3;         // below it Adam's first step (±lr whatever the size) amplifies float noise

    readonly string runs = Directory.CreateTempSubdirectory("fctrain-train-step-").FullName;
    public void Dispose() => Directory.Delete(runs, recursive: true);

    [Theory, MemberData(nameof(ConformanceTests.Cases), MemberType = typeof(ConformanceTests))]
    public void One_lora_step_matches_pytorch(string name)
    {
        using var scope = NewDisposeScope();
        string folder = ConformanceTests.Golden.Folder(name), reference = Path.Combine(folder, "train_step");
        var step = JsonDocument.Parse(File.ReadAllText(Path.Combine(reference, "step.json"))).RootElement;
        var options = new FcTrainSettings
        {
            Model = folder, Output = runs, InitAdapter = Path.Combine(folder, "adapter"), Device = "cpu", Dtype = "float32",
            Epochs = 1, MaxSteps = 1, BatchSize = 1, GradientAccumulationSteps = 1, WarmupRatio = 0,
            LearningRate = step.GetProperty("lr").GetDouble(),
            AdamBeta1 = step.GetProperty("betas")[0].GetDouble(), AdamBeta2 = step.GetProperty("betas")[1].GetDouble(),
            AdamEpsilon = step.GetProperty("eps").GetDouble(), WeightDecay = step.GetProperty("weight_decay").GetDouble(),
            MaxGradNorm = step.GetProperty("max_grad_norm").GetDouble(),
            LoggingSteps = 1, SaveSteps = 0, EvalEachEpoch = false,
            Lora = new LoraSettings { Dropout = step.GetProperty("dropout").GetDouble() },
        }.WithInitAdapterShape();
        var model = Gemma2Trainable.Attach(ModelSession.Open(options, adapter: null, ToolTokenMode.Reserved, _ => { }), options.Lora, options.InitAdapter);
        var trainer = new Trainer(options, model, PackedRow(name, step), TextWriter.Null);
        var grads = new Dictionary<string, Tensor>();
        trainer.GradientsReady += _ =>
        {
            foreach (var (parameter, value) in model.TrainableParameters()) grads[PeftAdapter.ToPeftKey(parameter)] = value.grad!.detach().clone();
        };

        var result = trainer.Run(CancellationToken.None);

        Assert.Equal(1, result.Steps);
        double loss = result.TrainLoss!.Value, expectedLoss = step.GetProperty("loss").GetDouble();
        var logged = new MetricsLog(result.RunDirectory);
        logged.Load(result.Steps);
        double norm = logged.Points.Single(p => p.Kind == "train").GradNorm!.Value, expectedNorm = step.GetProperty("grad_norm_before_clip").GetDouble();
        output.WriteLine($"{name}: loss {loss:R} vs {expectedLoss:R} (|diff| {Math.Abs(loss - expectedLoss):E2}); grad norm {norm:R} vs {expectedNorm:R} (relative {Math.Abs(norm - expectedNorm) / expectedNorm:E2})");
        Assert.True(Math.Abs(loss - expectedLoss) <= LossTolerance, $"loss {loss} vs PyTorch {expectedLoss}");
        Assert.True(Math.Abs(norm - expectedNorm) <= GradTolerance * expectedNorm, $"grad norm before clipping {norm} vs PyTorch {expectedNorm}");

        var expectedGrads = SafeTensorsFile.Open(Path.Combine(reference, "grads.safetensors"));
        var expectedAfter = SafeTensorsFile.Open(Path.Combine(reference, "adapter_after.safetensors"));
        var after = SafeTensorsFile.Open(Path.Combine(result.AdapterDirectory, PeftAdapter.WeightsFile));
        Assert.Equal(expectedGrads.Tensors.Keys.Order(), grads.Keys.Order());
        Assert.Equal(expectedAfter.Tensors.Keys.Order(), after.Tensors.Keys.Order());
        double worstGrad = 0, worstAdapter = 0;
        foreach (var key in expectedGrads.Tensors.Keys)
        {
            using var tensorScope = NewDisposeScope();
            var expected = expectedGrads.Read(key);
            var actual = grads[key];
            Assert.Equal(expected.shape, actual.shape);
            double largest = expected.abs().max().item<float>();
            double gradDiff = (actual - expected).abs().max().item<float>() / largest;
            worstGrad = Math.Max(worstGrad, gradDiff);
            Assert.True(gradDiff <= GradTolerance, $"gradient of {key}: max |diff| / max |grad| = {gradDiff:E3} > {GradTolerance:E0}");
            var zero = expected.eq(0);
            Assert.True(actual.masked_select(zero).eq(0).all().item<bool>(), $"gradient of {key} is not exactly zero where PyTorch's is");

            var compared = expected.abs().gt(Significant * largest).logical_or(zero);
            double adapterDiff = (after.Read(key) - expectedAfter.Read(key)).abs().masked_select(compared).max().item<float>();
            worstAdapter = Math.Max(worstAdapter, adapterDiff);
            Assert.True(adapterDiff <= AdapterTolerance, $"{key} after the step: max |diff| = {adapterDiff:E3} > {AdapterTolerance:E0}");
        }
        output.WriteLine($"{name}: {grads.Count} tensors; max gradient |diff| / max |grad| {worstGrad:E2}; max adapter |diff| after the step {worstAdapter:E2}");
    }

    /// <summary>golden.json's packed row with step.json's labels: one train row, no eval split.</summary>
    static PackedData PackedRow(string name, JsonElement step)
    {
        var packed = ConformanceTests.Golden.Load(name).Child("packed");
        int[] Ints(string key) => packed.Tensor(key, ScalarType.Int32).reshape(-1).data<int>().ToArray();
        int[] labels = step.GetProperty("labels").EnumerateArray().Select(l => l.GetInt32()).ToArray();
        return new PackedData
        {
            Train = [new PackedRow(Ints("input_ids"), labels, Ints("position_ids"), Ints("document_ids"))],
            Eval = [],
            ManifestJson = "{}",
            ManifestSha256 = "conformance",
        };
    }
}
