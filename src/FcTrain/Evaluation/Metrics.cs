namespace FcTrain.Evaluation;

/// <summary>A count out of a total; the rate is null when nothing was counted (shown as "-").</summary>
public readonly record struct Rate(int Count, int Total)
{
    public double? Value => Total == 0 ? null : (double)Count / Total;

    public override string ToString() => Total == 0 ? "-" : $"{100.0 * Count / Total:0.0}%";
}

/// <summary>
/// BFCL-AST-style metrics of a set of cases. Accuracy: the case is right (exact calls, or no call where
/// none is due). Name accuracy and exact arguments: over cases that expect calls. Schema-valid: over the
/// calls the model made. No-call accuracy: over cases that expect no call. Parse failures: over all cases.
/// </summary>
public sealed record Metrics(
    string Category,
    int Cases,
    Rate Accuracy,
    Rate NameAccuracy,
    Rate ArgumentsExact,
    Rate SchemaValid,
    Rate NoCallAccuracy,
    Rate ParseFailures)
{
    public static Metrics Of(string category, IReadOnlyCollection<CaseResult> results)
    {
        var callCases = results.Where(r => r.Case.ExpectsCall).ToList();
        var noCallCases = results.Where(r => !r.Case.ExpectsCall).ToList();
        var checks = results.SelectMany(r => r.Checks).ToList();
        return new Metrics(
            category,
            results.Count,
            new Rate(results.Count(r => r.Correct), results.Count),
            new Rate(callCases.Count(r => r.NamesMatch), callCases.Count),
            new Rate(callCases.Count(r => r.CallsMatch), callCases.Count),
            new Rate(checks.Count(c => c.Valid), checks.Count),
            new Rate(noCallCases.Count(r => r.NoCallCorrect), noCallCases.Count),
            new Rate(results.Count(r => r.Parsed.Failure is not null), results.Count));
    }
}
