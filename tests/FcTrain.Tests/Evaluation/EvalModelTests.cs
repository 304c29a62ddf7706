using FcTrain.Settings;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.Lora;
using FcTrain.Models;
using static TorchSharp.torch;

namespace FcTrain.Tests.Evaluation;

/// <summary>The evaluation with the real model: embedded tiny, greedy KV-cache generation, PEFT adapters.</summary>
public sealed class EvalModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fctrain-evalmodel-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static EvalReport Evaluate(string? adapter, Split split = Split.Eval, int maxNewTokens = 6, int batchSize = 64) =>
        EvalSession.Run(RepoPaths.Root, new EvalOptions
        {
            Datasets = ["datasets/weather"], Split = split, Adapter = adapter,
            Settings = new FcTrainSettings { Device = "cpu", MaxNewTokens = maxNewTokens, EvalBatchSize = batchSize },
        }, _ => { }).Report!;

    /// <summary>A PEFT adapter for tiny, saved by the project's writer; B = 0 (PEFT's init) unless <paramref name="perturb"/>.</summary>
    private string SaveAdapter(string name, bool perturb)
    {
        using var model = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU);
        var config = new LoraConfig(4, 8, 0, ["q_proj", "v_proj", "down_proj"]);
        model.ApplyLora(config);
        if (perturb)
            using (no_grad())
            {
                manual_seed(7);
                foreach (var (parameter, value) in model.AdapterParameters())
                    if (parameter.Contains("lora_B")) value.copy_(randn_like(value) * 0.5);
            }
        string folder = Path.Combine(_dir, name);
        PeftAdapter.Save(model, config, folder, TinyModel.Name);
        return folder;
    }

    [Fact]
    public void Tiny_GeneratesEveryCase_WithMarginsAndParsedTurns()
    {
        var report = Evaluate(adapter: null);
        Assert.Equal(EvalCase.From(SampleData.Named("weather"), Split.Eval).Count, report.Results.Count);
        Assert.All(report.Results, r =>
        {
            Assert.NotNull(r.MinMargin);
            Assert.True(r.MinMargin >= 0);
            Assert.NotNull(r.Parsed);
        });
        Assert.Equal(report.Results.Min(r => r.MinMargin), report.SmallestMargin!.MinMargin);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void AdapterAtPeftInit_EqualsTheBaseModel_AndATrainedOneChangesTheLogits()
    {
        var baseline = Evaluate(adapter: null);
        var zero = Evaluate(SaveAdapter("zero", perturb: false));
        Assert.Equal(baseline.Results.Select(r => (r.Output, r.MinMargin)), zero.Results.Select(r => (r.Output, r.MinMargin)));

        var changed = Evaluate(SaveAdapter("changed", perturb: true));
        Assert.NotEqual(baseline.Results.Select(r => r.MinMargin), changed.Results.Select(r => r.MinMargin));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Batched_EqualsOneCaseAtATime_ForEveryCase()
    {
        string adapter = SaveAdapter("changed", perturb: true);
        // Batches of 5 over the 21 train cases: uneven prompt lengths in one batch, and a last, smaller batch.
        var alone = Evaluate(adapter, Split.Train, maxNewTokens: 16, batchSize: 1);
        var batched = Evaluate(adapter, Split.Train, maxNewTokens: 16, batchSize: 5);

        Assert.Equal(alone.Results.Select(r => r.Case.Id), batched.Results.Select(r => r.Case.Id));
        Assert.Equal(alone.Results.Select(r => r.Output), batched.Results.Select(r => r.Output));
        Assert.All(alone.Results.Zip(batched.Results), pair =>
            Assert.InRange(pair.Second.MinMargin!.Value, pair.First.MinMargin!.Value - 1e-4, pair.First.MinMargin!.Value + 1e-4));
        Assert.Equal(alone.Results.Select(r => r.Parsed.Kind), batched.Results.Select(r => r.Parsed.Kind));
    }

    [Fact]
    public void AFolderWithoutAdapter_IsAUserError()
    {
        var e = Assert.Throws<FcTrainException>(() => Evaluate(_dir));
        Assert.Equal("FCT0406", e.Diagnostic.Code);
    }
}
