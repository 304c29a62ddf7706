using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Tests.Validation;

/// <summary>The conversation rules on small conversations written to a temporary dataset.</summary>
public sealed class ConversationRulesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"fctrain-rules-{Guid.NewGuid():N}");

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private const string User = """{ "role": "user", "content": "Weather in Oslo and Rome?" }""";
    private const string TwoCallsWithoutIds = """{ "role": "assistant", "tool_calls": [{ "name": "get_weather", "arguments": { "city": "Oslo" } }, { "name": "get_weather", "arguments": { "city": "Rome" } }] }""";
    private const string OneCall = """{ "role": "assistant", "tool_calls": [{ "id": "call_1", "name": "get_weather", "arguments": { "city": "Oslo" } }] }""";
    private const string Answer = """{ "role": "assistant", "content": "Mild in both." }""";

    /// <summary>
    /// Loads a dataset holding one function (get_weather) and one conversation with these messages; returns
    /// "code pointer" per diagnostic, leaving out FCT1001 (get_weather never called) unless asked.
    /// </summary>
    private List<string> Check(params string[] messages) => Check(false, messages);

    private List<string> Check(bool neverCalled, params string[] messages)
    {
        string dir = Path.Combine(_root, "datasets", "d");
        Directory.CreateDirectory(Path.Combine(dir, "functions"));
        Directory.CreateDirectory(Path.Combine(dir, "conversations"));
        File.WriteAllText(Path.Combine(dir, "dataset.json"), """
            { "$schema": "../../schemas/dataset.v1.schema.json", "name": "d", "version": "0.1.0", "description": "d", "license": "MIT",
              "functions": ["functions/*.json"], "conversations": ["conversations/*.json"], "split": { "eval_fraction": 0.5 } }
            """);
        File.WriteAllText(Path.Combine(dir, "functions", "get_weather.json"), """
            { "$schema": "../../../schemas/function.v1.schema.json", "name": "get_weather", "description": "Weather now.",
              "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } }
            """);
        File.WriteAllText(Path.Combine(dir, "conversations", "c.json"), $$"""
            { "$schema": "../../../schemas/conversation.v1.schema.json", "id": "c", "functions": ["get_weather"], "messages": [{{string.Join(",\n", messages)}}] }
            """);
        var result = DatasetLoader.Load(_root, []);
        Assert.Equal(result.HasErrors ? 0 : 1, result.ConversationCount); // a conversation with errors is left out
        return result.Diagnostics.Where(d => neverCalled || d.Code != "FCT1001").Select(d => $"{d.Code} {d.Message[..d.Message.IndexOf(':')]}").ToList();
    }

    [Fact]
    public void Calls_without_ids_are_answered_by_name_in_order() =>
        Assert.Empty(Check(User, TwoCallsWithoutIds,
            """{ "role": "tool", "name": "get_weather", "content": "12 C" }""",
            """{ "role": "tool", "name": "get_weather", "content": "19 C" }""",
            Answer));

    [Fact]
    public void A_conversation_may_end_with_calls_and_start_with_a_system_message() =>
        Assert.Empty(Check("""{ "role": "system", "content": "Be brief." }""", User, OneCall));

    [Fact]
    public void A_call_left_unanswered_among_parallel_calls_is_reported_at_the_next_turn() =>
        Assert.Equal(["FCT0013 /messages/1/tool_calls/1"], Check(User, TwoCallsWithoutIds,
            """{ "role": "tool", "name": "get_weather", "content": "12 C" }""",
            Answer));

    [Fact]
    public void Only_assistant_turns_can_be_left_untrained()
    {
        Assert.Empty(Check(User, """{ "role": "assistant", "content": "Mild.", "train": false }"""));
        Assert.Equal(["FCT0015 /messages/0/train"], Check("""{ "role": "user", "content": "Hi", "train": false }""", Answer));
    }

    [Fact]
    public void A_response_before_any_call_has_no_call() =>
        Assert.Equal(["FCT0012 /messages/1/tool_call_id"], Check(User, """{ "role": "tool", "tool_call_id": "call_1", "content": "12 C" }""", Answer));

    [Fact]
    public void A_response_naming_another_function_than_its_call_is_reported() =>
        Assert.Equal(["FCT0012 /messages/2/name"], Check(User, OneCall, """{ "role": "tool", "tool_call_id": "call_1", "name": "get_time", "content": "12 C" }""", Answer));

    [Fact]
    public void A_response_needs_an_id_or_a_name() =>
        Assert.Equal(["FCT0013 /messages/1/tool_calls/0", "FCT0015 /messages/2"], Check(User, OneCall, """{ "role": "tool", "content": "12 C" }""", Answer));

    [Theory]
    [InlineData("FCT0014 /messages/0/role", Answer)]                                                                 // assistant first
    [InlineData("FCT0014 /messages/2/role", User, Answer, Answer)]                                                   // two assistant turns
    [InlineData("FCT0014 /messages/1/role", User, """{ "role": "system", "content": "late" }""", Answer)]           // system not first
    [InlineData("FCT0014 /messages/1/role", """{ "role": "system", "content": "a" }""", """{ "role": "system", "content": "b" }""", User, Answer)]
    public void Impossible_role_orders_are_reported(string expected, params string[] messages) =>
        Assert.Equal([expected], Check(messages));

    [Fact]
    public void A_user_turn_right_after_tool_results_is_an_impossible_order() =>
        Assert.Equal(["FCT0014 /messages/3/role"], Check(User, OneCall, """{ "role": "tool", "tool_call_id": "call_1", "content": "12 C" }""", User, Answer));

    [Fact]
    public void Thinking_alone_is_not_an_assistant_turn() =>
        Assert.Equal(["FCT0015 /messages/1"], Check(User, """{ "role": "assistant", "thinking": "hmm" }"""));

    [Fact]
    public void Call_ids_are_unique_within_a_conversation() =>
        Assert.Equal(["FCT0007 /messages/3/tool_calls/0/id"], Check(User, OneCall,
            """{ "role": "tool", "tool_call_id": "call_1", "content": "12 C" }""", OneCall,
            """{ "role": "tool", "tool_call_id": "call_1", "content": "12 C" }""", Answer));

    [Fact]
    public void Warnings_keep_the_conversation()
    {
        Assert.Equal(["FCT1001 /name", "FCT1002 /messages"], Check(neverCalled: true, User).Order());
    }
}
