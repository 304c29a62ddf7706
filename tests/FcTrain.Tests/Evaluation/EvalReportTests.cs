using FcTrain.Data;
using FcTrain.Evaluation;

namespace FcTrain.Tests.Evaluation;

public class EvalReportTests
{
    private static IReadOnlyList<EvalCase> AllCases(Split split) =>
        SampleData.Datasets.SelectMany(d => EvalCase.From(d, split)).ToList();

    private static EvalReport Score(Split split, Func<EvalCase, string> generate) =>
        new("test", null, split, AllCases(split).Select(c => CaseResult.Score(c, generate(c), new CallChecker(c.Offered))).ToList());

    [Fact]
    public void Cases_CoverEveryAssistantTurn_WithBfclCategories()
    {
        var cases = AllCases(Split.Train).Concat(AllCases(Split.Eval)).ToList();
        int assistantTurns = SampleData.Datasets.Sum(d => d.Conversations.Sum(c => c.Conversation.Messages.Count(m => m.Role == Role.Assistant)));
        Assert.Equal(assistantTurns, cases.Count);
        Assert.Equal(cases.Count, cases.Select(c => c.Id).Distinct().Count());
        // The samples have one-of-several choices, parallel calls among several functions, irrelevance and answers.
        foreach (var category in new[] { CaseCategory.Multiple, CaseCategory.ParallelMultiple, CaseCategory.Irrelevance, CaseCategory.Answer })
            Assert.Contains(cases, c => c.Category == category);
        var parallel = cases.First(c => c.Category == CaseCategory.ParallelMultiple);
        Assert.True(parallel.ExpectedCalls.Count > 1 && parallel.Offered.Count > 1);
        Assert.All(cases.Where(c => c.Category == CaseCategory.Answer), c => Assert.Equal(Role.Tool, c.Conversation.Messages[c.TurnIndex - 1].Role));
    }

    [Fact]
    public void PerfectModel_ScoresFull()
    {
        var report = Score(Split.Train, c => SampleData.RenderGold(c.Gold));
        var total = report.Total;
        Assert.Equal(total.Cases, total.Accuracy.Count);
        Assert.Equal(total.NameAccuracy.Total, total.ArgumentsExact.Count);
        Assert.Equal(total.SchemaValid.Total, total.SchemaValid.Count);
        Assert.Equal(0, total.ParseFailures.Count);
        Assert.Equal(total.NoCallAccuracy.Total, total.NoCallAccuracy.Count);
        Assert.All(report.Results, r => Assert.Equal(r.Case.ExpectedKind, r.Parsed.Kind));
    }

    [Fact]
    public void ParallelCalls_MatchAsASet_AndArgumentsByValue()
    {
        var c = AllCases(Split.Train).First(c => c.ExpectedCalls.Count > 1);
        // Reversed order, keys reordered through a Python repr, integers written as floats where numeric.
        string reversed = string.Concat(c.ExpectedCalls.Reverse().Select(call =>
            "<tool_call>\n{'name': '" + call.Name + "', 'arguments': " + PythonRepr(call.Arguments) + "}\n</tool_call>"));
        var result = CaseResult.Score(c, reversed, new CallChecker(c.Offered));
        Assert.True(result.CallsMatch, reversed);
        Assert.True(result.Correct);
    }

    private static string PythonRepr(System.Text.Json.Nodes.JsonObject args) =>
        "{" + string.Join(", ", args.Reverse().Select(p => $"'{p.Key}': " + p.Value switch
        {
            System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.Number => v.ToJsonString() + ".0",
            System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.True => "True",
            System.Text.Json.Nodes.JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.False => "False",
            var other => other!.ToJsonString(),
        })) + "}";

    [Fact]
    public void SilentModel_GetsNoCallCasesRight_AndNothingElse()
    {
        var report = Score(Split.Train, _ => "I can't help with that.");
        var total = report.Total;
        Assert.Equal(total.NoCallAccuracy.Total, total.Accuracy.Count);
        Assert.Equal(0, total.NameAccuracy.Count);
        Assert.Equal(0, total.SchemaValid.Total);
        Assert.Null(total.SchemaValid.Value);
        Assert.Equal("-", total.SchemaValid.ToString());
    }

    [Fact]
    public void WrongArguments_KeepTheName_LoseExactMatch_AndShowInSchemaRate()
    {
        var c = AllCases(Split.Train).First(c => c.Category == CaseCategory.Multiple);
        var call = c.ExpectedCalls[0];
        string output = $"<tool_call>\n{{\"name\": \"{call.Name}\", \"arguments\": {{\"unexpected_argument\": 1}}}}\n</tool_call>";
        var result = CaseResult.Score(c, output, new CallChecker(c.Offered));
        Assert.True(result.NamesMatch);
        Assert.False(result.CallsMatch);
        Assert.False(result.AllCallsValid);
        Assert.False(result.Correct);
    }

    [Fact]
    public void Table_AndJson_HoldEveryCategory()
    {
        var report = Score(Split.Train, c => c.Category == CaseCategory.Multiple ? "<tool_call>{broken</tool_call>" : SampleData.RenderGold(c.Gold));
        string table = report.FormatTable();
        foreach (var m in report.ByCategory) Assert.Contains(m.Category, table);
        Assert.Contains("total", table);
        var multiple = report.ByCategory.Single(m => m.Category == "multiple");
        Assert.Equal(multiple.Cases, multiple.ParseFailures.Count);
        Assert.Equal("0.0%", multiple.Accuracy.ToString());

        var json = report.ToJson(details: true);
        Assert.Equal(report.Results.Count, json["cases"]!.AsArray().Count);
        Assert.Equal(report.Total.Cases, (int)json["total"]!["cases"]!);
        Assert.Null(report.ToJson(details: false)["cases"]);
        var failed = json["cases"]!.AsArray().First(c => (string)c!["answer"]! == "parse_failure")!;
        Assert.StartsWith("tool call 1: neither JSON", (string)failed["parse_failure"]!);
        Assert.False((bool)failed["matches_gold"]!);
    }
}
