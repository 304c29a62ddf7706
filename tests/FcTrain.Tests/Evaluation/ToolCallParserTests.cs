using System.Text.Json.Nodes;
using FcTrain.Evaluation;

namespace FcTrain.Tests.Evaluation;

public class ToolCallParserTests
{
    [Fact]
    public void CourseTurn_ThinkingAndOneJsonCall()
    {
        var turn = ToolCallParser.Parse(
            "<think>The user wants the weather in Dublin, so I call get_weather.</think><tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Dublin\"}}\n</tool_call><end_of_turn>");

        Assert.Equal("The user wants the weather in Dublin, so I call get_weather.", turn.Thinking);
        var call = Assert.Single(turn.Calls);
        Assert.Equal("get_weather", call.Name);
        Assert.Equal("{\"city\":\"Dublin\"}", call.Arguments.ToJsonString());
        Assert.Equal("", turn.Text);
        Assert.Null(turn.Failure);
        Assert.Equal(AnswerKind.ToolCalls, turn.Kind);
    }

    [Fact]
    public void HermesTurn_PythonDictRepr()
    {
        // As in NousResearch/hermes-function-calling-v1 and the agents course data: a Python repr.
        var turn = ToolCallParser.Parse(
            "<tool_call>\n{'name': 'book_flight', 'arguments': {'origin': 'LIS', 'nonstop': True, 'seat': None, 'passengers': 2, 'budget': 350.5, 'note': \"Ann's trip\"}}\n</tool_call>");

        var call = Assert.Single(turn.Calls);
        Assert.Equal("book_flight", call.Name);
        Assert.Equal("{\"budget\":350.5,\"nonstop\":true,\"note\":\"Ann's trip\",\"origin\":\"LIS\",\"passengers\":2,\"seat\":null}",
            CanonicalJson.Key(call.Arguments));
    }

    [Fact]
    public void ParallelCalls_InOrder_WithTextAround()
    {
        var turn = ToolCallParser.Parse(
            "<think>Two cities.</think>Checking both.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}\n</tool_call>\n" +
            "<tool_call>\n{'name': 'get_weather', 'arguments': {'city': 'Rome'}}\n</tool_call>\n");

        Assert.Equal(["Paris", "Rome"], turn.Calls.Select(c => (string)c.Arguments["city"]!));
        Assert.Equal("Checking both.", turn.Text);
        Assert.Null(turn.Failure);
    }

    [Theory]
    // hermes-function-calling-v1 writes arguments first, as a Python repr, nested values included.
    [InlineData("<tool_call>\n{'arguments': {'symbols': ['AAPL', 'MSFT'], 'filters': {'min_volume': 1000000, 'exchange': None}}, 'name': 'get_stock_quotes'}\n</tool_call>",
        "get_stock_quotes({\"filters\":{\"exchange\":null,\"min_volume\":1000000},\"symbols\":[\"AAPL\",\"MSFT\"]})")]
    // The agents course's model turn: thinking, then the call in strict JSON, closed by <end_of_turn><eos>.
    [InlineData("<think>I should convert 100 EUR to USD.</think><tool_call>\n{\"name\": \"convert_currency\", \"arguments\": {\"amount\": 100.0, \"from\": \"EUR\", \"to\": \"USD\"}}\n</tool_call><end_of_turn><eos>",
        "convert_currency({\"amount\":100,\"from\":\"EUR\",\"to\":\"USD\"})")]
    // Text before a call, unicode and escapes in values.
    [InlineData("Sure! Let me book that.\n<tool_call>\n{\"name\": \"create_event\", \"arguments\": {\"title\": \"Caf\\u00e9 with Zo\u00eb \\\"Z\\\"\", \"start\": \"2026-12-01T09:00\"}}\n</tool_call>",
        "create_event({\"start\":\"2026-12-01T09:00\",\"title\":\"Café with Zoë \\\"Z\\\"\"})")]
    public void RealLookingCalls(string output, string expected)
    {
        var turn = ToolCallParser.Parse(output);
        Assert.Null(turn.Failure);
        Assert.Equal(expected, CaseResult.CallKey(Assert.Single(turn.Calls)));
    }

    [Theory]
    [InlineData("The weather in Dublin is 12°C and cloudy.<end_of_turn><eos>", AnswerKind.Text)]
    [InlineData("<think>I need a date.</think>Which day would you like to fly?", AnswerKind.Clarification)]
    [InlineData("Could you tell me the city (for example \"Oslo\")?", AnswerKind.Clarification)]
    [InlineData("<think>nothing to do</think>", AnswerKind.Empty)]
    [InlineData("", AnswerKind.Empty)]
    public void TextTurns_AreClassified(string output, AnswerKind kind)
    {
        var turn = ToolCallParser.Parse(output);
        Assert.Empty(turn.Calls);
        Assert.Null(turn.Failure);
        Assert.Equal(kind, turn.Kind);
    }

    [Theory]
    [InlineData("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Dub", "tool call 1: <tool_call> is never closed by </tool_call>")]
    [InlineData("<tool_call>\n{\"name\": get_weather}\n</tool_call>", "tool call 1: neither JSON")]
    [InlineData("<tool_call>\n</tool_call>", "tool call 1: the call is empty")]
    [InlineData("<tool_call>[1, 2]</tool_call>", "tool call 1: the call is not an object")]
    [InlineData("<tool_call>{\"arguments\": {}}</tool_call>", "tool call 1: the call has no \"name\" string")]
    [InlineData("<tool_call>{\"name\": \"f\", \"arguments\": [1]}</tool_call>", "tool call 1: the arguments of 'f' are not an object")]
    [InlineData("<think>planning forever", "<think> is never closed by </think>")]
    [InlineData("{\"name\": \"f\"}</tool_call>", "</tool_call> without a matching opening tag")]
    [InlineData("<tool_call>{\"name\": \"f\"}<tool_call>{\"name\": \"g\"}</tool_call>", "tool call 1: <tool_call> opens again before </tool_call>")]
    [InlineData("<tool_call>{'name': 'f', 'arguments': {'x': 1}}</tool_call><tool_call>{'name': 'f', 'arguments': {'x': os.system('rm')}}</tool_call>", "tool call 2: neither JSON")]
    public void MalformedTurns_AreFailures_NotExceptions(string output, string reason)
    {
        var turn = ToolCallParser.Parse(output);
        Assert.NotNull(turn.Failure);
        Assert.StartsWith(reason, turn.Failure!.Reason);
        Assert.Equal(AnswerKind.ParseFailure, turn.Kind);
    }

    [Fact]
    public void Failure_InSecondCall_KeepsTheFirst()
    {
        var turn = ToolCallParser.Parse("<tool_call>{'name': 'f', 'arguments': {}}</tool_call><tool_call>{'name': </tool_call>");
        Assert.Equal("f", Assert.Single(turn.Calls).Name);
        Assert.Contains("tool call 2", turn.Failure!.Reason);
    }

    [Fact]
    public void MissingArguments_MeanNone_AndStringArguments_AreDecoded()
    {
        Assert.True(ToolCallParser.TryReadCall("{\"name\": \"get_time\"}", out var noArgs, out _));
        Assert.Empty(noArgs!.Arguments);
        // OpenAI style: arguments as a JSON string.
        Assert.True(ToolCallParser.TryReadCall("{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": 1}\"}", out var encoded, out _));
        Assert.Equal(1, (int)encoded!.Arguments["a"]!);
    }

    [Theory]
    [InlineData("```json\n{\"name\": \"f\", \"arguments\": {\"a\": 1}}\n```")]
    [InlineData("```\n{'name': 'f', 'arguments': {'a': 1}}\n```")]
    [InlineData("{\"name\": \"f\", \"parameters\": {\"a\": 1}}")]
    [InlineData("  {\"arguments\": {\"a\": 1.0}, \"name\": \"f\", \"id\": \"call_1\"}  ")]
    public void CommonVariants_OfOneCall(string body)
    {
        Assert.True(ToolCallParser.TryReadCall(body, out var call, out string? reason), reason);
        Assert.Equal("f(" + "{\"a\":1}" + ")", CaseResult.CallKey(call!));
    }

    [Theory]
    [InlineData(FcTrain.Templates.Serialization.Json)]
    [InlineData(FcTrain.Templates.Serialization.Hermes)]
    public void EveryGoldCall_AsTheTemplateWritesIt_ReadsBackEqual(FcTrain.Templates.Serialization kind)
    {
        // The training template's own serializer (strict JSON, or Python reprs as in the Hermes data) and this parser agree.
        int calls = 0;
        foreach (var dataset in SampleData.Datasets)
        foreach (var (conversation, _) in dataset.Conversations)
        foreach (var call in conversation.Messages.SelectMany(m => m.ToolCalls ?? []))
        {
            var envelope = new JsonObject { ["name"] = call.Name, ["arguments"] = FcTrain.Templates.ValueSerializer.Canonical(call.Arguments) };
            string body = FcTrain.Templates.ValueSerializer.Serialize(envelope, kind);
            Assert.True(ToolCallParser.TryReadCall(body, out var read, out string? reason), $"{body}: {reason}");
            Assert.Equal(CaseResult.CallKey(new ParsedToolCall(call.Name, call.Arguments)), CaseResult.CallKey(read!));
            calls++;
        }
        Assert.True(calls > 50, $"{calls} calls");
    }

    [Fact]
    public void SkipSpecialDecoding_DropsTheMarkup_AndTheCallBecomesText()
    {
        // The Hermes parser bug: when <tool_call> is a special token and the decoder skips special tokens,
        // the same generation reads as plain text and the call is lost. fctrain decodes with markup kept.
        const string kept = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}\n</tool_call>";
        string skipped = kept.Replace("<tool_call>", "").Replace("</tool_call>", "");

        Assert.Single(ToolCallParser.Parse(kept).Calls);
        var lost = ToolCallParser.Parse(skipped);
        Assert.Empty(lost.Calls);
        Assert.Equal(AnswerKind.Text, lost.Kind);
    }
}

public class PythonLiteralTests
{
    [Theory]
    [InlineData("{'a': 'it\\'s', 'b': \"x\\ny\"}", "{\"a\":\"it's\",\"b\":\"x\\ny\"}")]
    [InlineData("{'t': (1, 2,), 'l': [True, False, None], 'n': -3, 'f': 1e3, 'g': 0.25}", "{\"f\":1000,\"g\":0.25,\"l\":[true,false,null],\"n\":-3,\"t\":[1,2]}")]
    [InlineData("{'u': '\\u00e9\\x41', 'big': 12345678901234567890}", "{\"big\":12345678901234567890,\"u\":\"éA\"}")]
    [InlineData("{'mixed': true, 'also': null,}", "{\"also\":null,\"mixed\":true}")]
    public void Parses_PythonReprs(string text, string canonical)
    {
        Assert.True(PythonLiteral.TryParse(text, out JsonNode? node, out string? error), error);
        Assert.Equal(canonical, CanonicalJson.Key(node));
    }

    [Theory]
    [InlineData("{'a': 1", "expected ',' or '}'")]
    [InlineData("{'a': undefined}", "unknown name 'undefined'")]
    [InlineData("{'a': 'open}", "unterminated string")]
    [InlineData("{'a': 1, 'a': 2}", "duplicate key 'a'")]
    [InlineData("{1: 2}", "expected a string key")]
    [InlineData("{'a': 1} extra", "unexpected text after the value")]
    public void Rejects_WithAnOffset(string text, string reason)
    {
        Assert.False(PythonLiteral.TryParse(text, out _, out string? error));
        Assert.Contains(reason, error);
        Assert.Contains("at offset", error);
    }
}
