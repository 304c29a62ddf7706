using System.Text.Json.Nodes;

namespace FcTrain.Settings;

/// <summary>How a setting's value is written: in <c>fctrain.json</c>, after a flag, in an MSBuild property.</summary>
public enum SettingKind { String, Path, Model, Int, Number, Bool, StringList }

/// <summary>
/// One setting: its <c>fctrain.json</c> key (dotted: <c>train.epochs</c>), the MSBuild property and the
/// command-line flag that set it, and where it lives in <see cref="FcTrainSettings"/>.
/// </summary>
public sealed record Setting(string Key, string Property, string Flag, SettingKind Kind,
    Func<FcTrainSettings, object?> Get, Func<FcTrainSettings, object, FcTrainSettings> Set);

/// <summary>
/// The one map of settings: <c>fctrain.json</c> keys, flags and MSBuild properties onto <see cref="FcTrainSettings"/>.
/// Defaults live in the record; ranges in <c>schemas/fctrain.v1.schema.json</c>, which checks file and flags alike.
/// </summary>
public static class SettingsTable
{
    public static IReadOnlyList<Setting> All { get; } =
    [
        new("model", "FcTrainModel", "--model", SettingKind.Model, s => s.Model, (s, v) => s with { Model = (string)v }),
        new("device", "FcTrainDevice", "--device", SettingKind.String, s => s.Device, (s, v) => s with { Device = (string)v }),
        new("dtype", "FcTrainDtype", "--dtype", SettingKind.String, s => s.Dtype, (s, v) => s with { Dtype = (string)v }),
        new("shards", "FcTrainShards", "--shards", SettingKind.Path, s => s.Shards, (s, v) => s with { Shards = (string)v }),
        new("output", "FcTrainOutput", "--output", SettingKind.Path, s => s.Output, (s, v) => s with { Output = (string)v }),

        new("train.epochs", "FcTrainEpochs", "--epochs", SettingKind.Int, s => s.Epochs, (s, v) => s with { Epochs = (int)v }),
        new("train.maxSteps", "FcTrainMaxSteps", "--max-steps", SettingKind.Int, s => s.MaxSteps, (s, v) => s with { MaxSteps = (int)v }),
        new("train.learningRate", "FcTrainLearningRate", "--lr", SettingKind.Number, s => s.LearningRate, (s, v) => s with { LearningRate = (double)v }),
        new("train.weightDecay", "FcTrainWeightDecay", "--weight-decay", SettingKind.Number, s => s.WeightDecay, (s, v) => s with { WeightDecay = (double)v }),
        new("train.adamBeta1", "FcTrainAdamBeta1", "--adam-beta1", SettingKind.Number, s => s.AdamBeta1, (s, v) => s with { AdamBeta1 = (double)v }),
        new("train.adamBeta2", "FcTrainAdamBeta2", "--adam-beta2", SettingKind.Number, s => s.AdamBeta2, (s, v) => s with { AdamBeta2 = (double)v }),
        new("train.adamEpsilon", "FcTrainAdamEpsilon", "--adam-epsilon", SettingKind.Number, s => s.AdamEpsilon, (s, v) => s with { AdamEpsilon = (double)v }),
        new("train.warmupRatio", "FcTrainWarmupRatio", "--warmup-ratio", SettingKind.Number, s => s.WarmupRatio, (s, v) => s with { WarmupRatio = (double)v }),
        new("train.batchSize", "FcTrainBatchSize", "--batch-size", SettingKind.Int, s => s.BatchSize, (s, v) => s with { BatchSize = (int)v }),
        new("train.gradientAccumulationSteps", "FcTrainGradientAccumulationSteps", "--gradient-accumulation-steps", SettingKind.Int,
            s => s.GradientAccumulationSteps, (s, v) => s with { GradientAccumulationSteps = (int)v }),
        new("train.maxGradNorm", "FcTrainMaxGradNorm", "--max-grad-norm", SettingKind.Number, s => s.MaxGradNorm, (s, v) => s with { MaxGradNorm = (double)v }),
        new("train.maxSeqLength", "FcTrainMaxSeqLength", "--max-seq-length", SettingKind.Int, s => s.MaxSeqLength, (s, v) => s with { MaxSeqLength = (int)v }),
        new("train.seed", "FcTrainSeed", "--seed", SettingKind.Int, s => s.Seed, (s, v) => s with { Seed = (int)v }),
        new("train.gradientCheckpointing", "FcTrainGradientCheckpointing", "--gradient-checkpointing", SettingKind.Bool,
            s => s.GradientCheckpointing, (s, v) => s with { GradientCheckpointing = (bool)v }),
        new("train.loggingSteps", "FcTrainLoggingSteps", "--logging-steps", SettingKind.Int, s => s.LoggingSteps, (s, v) => s with { LoggingSteps = (int)v }),
        new("train.saveSteps", "FcTrainSaveSteps", "--save-steps", SettingKind.Int, s => s.SaveSteps, (s, v) => s with { SaveSteps = (int)v }),
        new("train.initAdapter", "FcTrainInitAdapter", "--init-adapter", SettingKind.Path, s => s.InitAdapter, (s, v) => s with { InitAdapter = (string)v }),
        new("train.evalEachEpoch", "FcTrainEvalEachEpoch", "--eval-each-epoch", SettingKind.Bool, s => s.EvalEachEpoch, (s, v) => s with { EvalEachEpoch = (bool)v }),

        new("lora.r", "FcTrainLoraR", "--lora-r", SettingKind.Int, s => s.Lora.Rank, (s, v) => s with { Lora = s.Lora with { Rank = (int)v } }),
        new("lora.alpha", "FcTrainLoraAlpha", "--lora-alpha", SettingKind.Number, s => s.Lora.Alpha, (s, v) => s with { Lora = s.Lora with { Alpha = (double)v } }),
        new("lora.dropout", "FcTrainLoraDropout", "--lora-dropout", SettingKind.Number, s => s.Lora.Dropout, (s, v) => s with { Lora = s.Lora with { Dropout = (double)v } }),
        new("lora.targetModules", "FcTrainLoraTargetModules", "--lora-target-modules", SettingKind.StringList,
            s => s.Lora.TargetModules, (s, v) => s with { Lora = s.Lora with { TargetModules = (string[])v } }),
        new("lora.useRsLora", "FcTrainLoraUseRsLora", "--lora-use-rslora", SettingKind.Bool, s => s.Lora.UseRsLora, (s, v) => s with { Lora = s.Lora with { UseRsLora = (bool)v } }),

        new("eval.maxNewTokens", "FcTrainMaxNewTokens", "--max-new-tokens", SettingKind.Int, s => s.MaxNewTokens, (s, v) => s with { MaxNewTokens = (int)v }),
        new("eval.batchSize", "FcTrainEvalBatchSize", "--eval-batch-size", SettingKind.Int, s => s.EvalBatchSize, (s, v) => s with { EvalBatchSize = (int)v }),
    ];

    public static Setting? Find(string key) => All.FirstOrDefault(s => s.Key == key);

    /// <summary>A value as JSON (what <c>fctrain settings --json</c> prints).</summary>
    public static JsonNode? ToJson(object? value) => value switch
    {
        int i => JsonValue.Create(i),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        string s => JsonValue.Create(s),
        IEnumerable<string> list => new JsonArray([.. list.Select(v => (JsonNode?)JsonValue.Create(v))]),
        _ => null,
    };
}
