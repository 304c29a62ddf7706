using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Evaluation;

/// <summary>What <c>fctrain eval</c> and <c>fctrain snapshot</c> evaluate, and with what.</summary>
public sealed record EvalOptions
{
    /// <summary>Dataset folders or files, relative to the repository root; none: every dataset under datasets/.</summary>
    public IReadOnlyList<string> Datasets { get; init; } = [];
    /// <summary>Which split's assistant turns are the cases (eval: held out; train: memorised).</summary>
    public Split Split { get; init; } = Split.Eval;
    /// <summary>Base model: <c>tiny</c> (embedded), a Hugging Face model folder, or a Hub id.</summary>
    public string Model { get; init; } = "tiny";
    /// <summary>A PEFT adapter folder applied on the base model (none: the base model alone).</summary>
    public string? Adapter { get; init; }
    /// <summary><c>auto</c>, <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; init; } = "auto";
    /// <summary>
    /// Generation stops at <c>&lt;end_of_turn&gt;</c>/<c>&lt;eos&gt;</c> or after this many tokens. One default for
    /// <c>eval</c>, <c>snapshot</c> and the pipeline's snapshot check, so a snapshot accepted by hand is the one the
    /// build compares against. 128 covers a thinking line and a few calls (gold turns of the samples are under 100).
    /// </summary>
    public int MaxNewTokens { get; init; } = 128;
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
        Func<EvalCase, GeneratedTurn> generate = model is not null
            ? model.Generate
            : RecordedOutputs.Generator(RecordedOutputs.Load(Path.GetFullPath(options.Outputs!, repoRoot), options.Outputs!), options.Outputs!);
        log($"fctrain: evaluating {cases} case(s) of the {split} split of {loaded.Datasets.Count} dataset(s) with " +
            (options.Outputs is null ? $"{options.Model}{(options.Adapter is null ? "" : " + " + options.Adapter)}" : options.Outputs));
        var report = options.Outputs is null
            ? EvalRunner.Run(loaded.Datasets, options.Split, generate, options.Model, options.Adapter, log)
            : EvalRunner.Run(loaded.Datasets, options.Split, generate, "recorded: " + options.Outputs, null, log);
        return (report, loaded.Datasets, loaded.Diagnostics);
    }
}
