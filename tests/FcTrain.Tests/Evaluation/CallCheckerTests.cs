using System.Text.Json.Nodes;
using FcTrain.Evaluation;

namespace FcTrain.Tests.Evaluation;

public class CallCheckerTests
{
    private static readonly CallChecker Travel = new(SampleData.Named("travel").Functions);

    private static CallCheck Check(string name, string arguments) =>
        Travel.Check(new ParsedToolCall(name, (JsonObject)JsonNode.Parse(arguments)!));

    [Fact]
    public void ValidCall() =>
        Assert.True(Check("convert_currency", "{\"amount\": 100, \"from\": \"EUR\", \"to\": \"USD\"}").Valid);

    [Fact]
    public void UnknownFunction_NamesTheOfferedOnes()
    {
        var check = Check("convert_money", "{}");
        Assert.False(check.KnownFunction);
        Assert.False(check.Valid);
        Assert.StartsWith("'convert_money' is not one of the offered functions (", Assert.Single(check.Errors));
        Assert.Contains("convert_currency", check.Errors[0]);
    }

    [Theory]
    [InlineData("{\"amount\": 100, \"from\": \"EUR\"}", "arguments: ", "required")]
    [InlineData("{\"amount\": \"100\", \"from\": \"EUR\", \"to\": \"USD\"}", "arguments/amount: ", "type")]
    [InlineData("{\"amount\": 100, \"from\": \"euro\", \"to\": \"USD\"}", "arguments/from: ", "pattern")]
    [InlineData("{\"amount\": 0, \"from\": \"EUR\", \"to\": \"USD\"}", "arguments/amount: ", "exclusiveMinimum")]
    [InlineData("{\"amount\": 1, \"from\": \"EUR\", \"to\": \"USD\", \"fee\": 2}", "arguments", "additionalProperties")]
    public void SchemaViolations_SayWhereAndWhich(string arguments, string where, string keyword)
    {
        var check = Check("convert_currency", arguments);
        Assert.True(check.KnownFunction);
        Assert.False(check.SchemaValid);
        Assert.Contains(check.Errors, e => e.StartsWith(where, StringComparison.Ordinal) && e.EndsWith($"({keyword})", StringComparison.Ordinal));
    }

    [Fact]
    public void EveryGoldCallOfTheSamples_IsValid()
    {
        // The checker and the data validator agree: gold calls passed validation, so they check as valid here.
        foreach (var dataset in SampleData.Datasets)
        foreach (var split in new[] { FcTrain.Data.Split.Train, FcTrain.Data.Split.Eval })
        foreach (var c in EvalCase.From(dataset, split))
        {
            var checker = new CallChecker(c.Offered);
            foreach (var call in c.ExpectedCalls)
                Assert.True(checker.Check(call).Valid, $"{c.Id}: {string.Join("; ", checker.Check(call).Errors)}");
        }
    }
}
