using System.Diagnostics;
using FcTrain.Data;

namespace FcTrain.Evaluation;

/// <summary>
/// Runs the evaluation: every assistant turn of the chosen split is a case; <c>generate</c> produces the
/// model's turn for each case's prompt (decoded with the tool markup kept; all cases in one call, so a model can
/// batch them); each turn is parsed, checked against the offered functions and scored against the gold turn on its
/// own (a turn that does not parse fails its case only).
/// </summary>
public static class EvalRunner
{
    public static EvalReport Run(
        IReadOnlyList<Dataset> datasets, Split split, Func<IReadOnlyList<EvalCase>, IReadOnlyList<GeneratedTurn>> generate,
        string model, string? adapter, Action<string>? log = null)
    {
        var cases = datasets.OrderBy(d => d.Manifest.Name, StringComparer.Ordinal).SelectMany(d => EvalCase.From(d, split)).ToList();
        var checkers = new Dictionary<string, CallChecker>(StringComparer.Ordinal);
        var results = new List<CaseResult>(cases.Count);
        var clock = Stopwatch.StartNew();
        var turns = generate(cases);
        foreach (var (c, turn) in cases.Zip(turns))
        {
            string offered = string.Join(",", c.Offered.Select(f => f.Name));
            string key = c.Dataset + "/" + offered;
            if (!checkers.TryGetValue(key, out CallChecker? checker)) checkers[key] = checker = new CallChecker(c.Offered);
            CaseResult result = CaseResult.Score(c, turn.Text, checker) with { MinMargin = turn.MinMargin };
            results.Add(result);
            log?.Invoke($"[{results.Count}/{cases.Count}] {c.Id} ({c.Category.Name()}): {(result.Correct ? "ok" : "differs")} -> {result.Parsed.Kind.Name()}" +
                        (turn.MinMargin is { } m ? $", margin {m:0.00}" : "") + $"  {clock.Elapsed.TotalSeconds:0.0}s");
        }
        return new EvalReport(model, adapter, split, results);
    }
}
