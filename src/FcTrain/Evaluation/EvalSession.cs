using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Settings;

namespace FcTrain.Evaluation;

/// <summary>What <c>fctrain eval</c> and <c>fctrain snapshot</c> evaluate, and with what.</summary>
public sealed record EvalOptions
{
    /// <summary>Dataset folders or files, relative to the repository root; none: every dataset under datasets/.</summary>
    public IReadOnlyList<string> Datasets { get; init; } = [];
    /// <summary>Which split's assistant turns are the cases (eval: held out; train: memorised).</summary>
    public Split Split { get; init; } = Split.Eval;
    /// <summary>The model, device, dtype and <see cref="FcTrainSettings.MaxNewTokens"/> to generate with.</summary>
    public FcTrainSettings Settings { get; init; } = new();
    /// <summary>A PEFT adapter folder applied on the base model (none: the base model alone).</summary>
    public string? Adapter { get; init; }
    /// <summary>A JSONL file of recorded model turns (<see cref="RecordedOutputs"/>) to score instead of generating.</summary>
    public string? Outputs { get; init; }
}

/// <summary>Loads the datasets, produces a model turn per case and scores them: the flow both commands share.</summary>
public static class EvalSession
{
    public const string NoCases = "FCT0403";

    /// <summary>
    /// Runs the evaluation from <paramref name="repoRoot"/>. Data problems come back as diagnostics (all of
    /// them, nothing evaluated); an unusable option throws <see cref="FcTrainException"/>.
    /// </summary>
    public static (EvalReport? Report, IReadOnlyList<Dataset> Datasets, IReadOnlyList<Diagnostic> Diagnostics) Run(
        string repoRoot, EvalOptions options, Action<string> log)
    {
        LoadResult loaded = DatasetLoader.Load(repoRoot, options.Datasets);
        if (loaded.HasErrors) return (null, loaded.Datasets, loaded.Diagnostics);
        int cases = loaded.Datasets.Sum(d => EvalCase.From(d, options.Split).Count);
        string split = options.Split == Split.Train ? "train" : "eval";
        if (cases == 0)
            throw FcTrainException.Error(NoCases, $"the {split} split has no evaluation case: no conversation of the datasets is in it with an assistant turn. " +
                "Choose the other split (--split), or hold conversations out with split.eval_ids or split.eval_fraction in dataset.json.", "datasets");

        using var model = options.Outputs is null ? EvalModel.Load(options, loaded.Datasets, log) : null;
        Func<IReadOnlyList<EvalCase>, IReadOnlyList<GeneratedTurn>> generate = model is not null
            ? cases => model.Generate(cases, log)
            : RecordedOutputs.Generator(RecordedOutputs.Load(Path.GetFullPath(options.Outputs!, repoRoot), options.Outputs!), options.Outputs!);
        log($"fctrain: evaluating {cases} case(s) of the {split} split of {loaded.Datasets.Count} dataset(s) with " +
            (options.Outputs is null ? $"{options.Settings.Model}{(options.Adapter is null ? "" : " + " + options.Adapter)}" : options.Outputs));
        var report = options.Outputs is null
            ? EvalRunner.Run(loaded.Datasets, options.Split, generate, options.Settings.Model, options.Adapter, log)
            : EvalRunner.Run(loaded.Datasets, options.Split, generate, "recorded: " + options.Outputs, null, log);
        return (report, loaded.Datasets, loaded.Diagnostics);
    }
}
