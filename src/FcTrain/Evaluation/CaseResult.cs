namespace FcTrain.Evaluation;

/// <summary>
/// One scored case: what the model generated, how it parsed, the check of each call, and the BFCL-AST verdicts.
/// </summary>
public sealed record CaseResult(EvalCase Case, string Output, ParsedTurn Parsed, IReadOnlyList<CallCheck> Checks)
{
    /// <summary>The smallest greedy logit margin of the generated turn (null for recorded outputs); see <see cref="GeneratedTurn"/>.</summary>
    public double? MinMargin { get; init; }

    /// <summary>The predicted function names equal the gold names (as a multiset: parallel calls in any order).</summary>
    public bool NamesMatch => Case.ExpectsCall && Parsed.Failure is null && SameMultiset(
        Parsed.Calls.Select(c => c.Name), Case.ExpectedCalls.Select(c => c.Name));

    /// <summary>The predicted calls equal the gold calls, names and arguments by value, matched as a set.</summary>
    public bool CallsMatch => Case.ExpectsCall && Parsed.Failure is null && SameMultiset(
        Parsed.Calls.Select(CallKey), Case.ExpectedCalls.Select(CallKey));

    /// <summary>Every predicted call names an offered function with schema-valid arguments (false when there are none).</summary>
    public bool AllCallsValid => Checks.Count > 0 && Checks.All(c => c.Valid);

    /// <summary>No call was expected and none was made (and no tool markup failed to parse).</summary>
    public bool NoCallCorrect => !Case.ExpectsCall && Parsed.Failure is null && Parsed.Calls.Count == 0;

    /// <summary>The case is right: the gold calls exactly, or no call where none is due.</summary>
    public bool Correct => Case.ExpectsCall ? CallsMatch : NoCallCorrect;

    public static string CallKey(ParsedToolCall call) => call.Name + "(" + CanonicalJson.Key(call.Arguments) + ")";

    private static bool SameMultiset(IEnumerable<string> a, IEnumerable<string> b) =>
        a.Order(StringComparer.Ordinal).SequenceEqual(b.Order(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>Parses and checks a generated turn against its case.</summary>
    public static CaseResult Score(EvalCase evalCase, string output, CallChecker checker)
    {
        ParsedTurn parsed = ToolCallParser.Parse(output);
        return new CaseResult(evalCase, output, parsed, parsed.Calls.Select(checker.Check).ToList());
    }
}
