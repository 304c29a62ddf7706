using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Interop;

namespace FcTrain.Tests.Interop;

public class HermesImportTests
{
    private const string System =
        "You are a function calling AI model. You are provided with function signatures within <tools></tools> XML tags. Here are the available tools:<tools>\n" +
        "[{'type': 'function', 'function': {'name': 'search_flights', 'description': 'Search flights.', 'parameters': {'type': 'object', 'properties': {'origin': {'type': 'string'}, 'flexible': {'type': 'boolean'}}, 'required': ['origin']}}}]\n" +
        "</tools> For each function call return a json object within <tool_call></tool_call> XML tags.";

    private static JsonObject Turn(string from, string value) => new() { ["from"] = from, ["value"] = value };

    private static string Record(string id, params JsonObject[] turns) =>
        new JsonObject { ["id"] = id, ["conversations"] = new JsonArray(turns.Select(t => (JsonNode?)t).ToArray()), ["category"] = "travel" }.ToJsonString();

    [Fact]
    public void Sharegpt_records_with_python_literal_calls_thinking_and_responses_import_and_drop_the_tool_prompt()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("hermes.jsonl", Record("753d-a",
            Turn("system", System),
            Turn("human", "Flights from LIS?"),
            Turn("gpt", "<think>Search from LIS.</think><tool_call>\n{'arguments': {'origin': 'LIS', 'flexible': True}, 'name': 'search_flights'}\n</tool_call>\n"),
            Turn("tool", "<tool_response>\n{\"name\": \"search_flights\", \"content\": {\"flights\": [\"TP 123\"], \"cheapest\": None}}\n</tool_response>\n"),
            Turn("gpt", "There is TP 123.")) + "\n");

        var (summary, diagnostics, log) = workspace.Import(null, false, input);

        Assert.Empty(diagnostics);
        Assert.Equal(ImportFormat.Hermes, summary.Format);
        Assert.Contains(log, l => l.Contains("\"conversations\"", StringComparison.Ordinal));
        var conversation = Assert.Single(workspace.Load().Conversations).Conversation;
        Assert.Equal("753d-a", conversation.Id);
        Assert.Equal(["search_flights"], conversation.Functions);
        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant], conversation.Messages.Select(m => m.Role));
        var call = Assert.Single(conversation.Messages[1].ToolCalls!);
        Assert.Equal("Search from LIS.", conversation.Messages[1].Thinking);
        Assert.Equal("""{"origin":"LIS","flexible":true}""", call.Arguments.ToJsonString());
        Assert.Equal("search_flights", conversation.Messages[2].Name);
        Assert.Equal("""{"flights":["TP 123"],"cheapest":null}""", conversation.Messages[2].Content!.ToJsonString());
        Assert.Equal("There is TP 123.", conversation.Messages[3].Text);
    }

    [Fact]
    public void The_course_shape_messages_with_model_role_and_a_json_array_input_import()
    {
        using var workspace = new ImportWorkspace();
        var record = new JsonObject
        {
            ["messages"] = new JsonArray(
                new JsonObject { ["role"] = "system", ["content"] = System },
                new JsonObject { ["role"] = "human", ["content"] = "Flights from OPO?" },
                new JsonObject { ["role"] = "model", ["content"] = "<think>plan</think><tool_call>\n{\"name\": \"search_flights\", \"arguments\": {\"origin\": \"OPO\"}}\n</tool_call>" }),
        };
        string input = workspace.Write("course.json", "[\n  " + record.ToJsonString() + "\n]\n");

        var (summary, diagnostics, _) = workspace.Import(null, false, input);

        Assert.Empty(diagnostics);
        Assert.Equal(ImportFormat.Hermes, summary.Format);
        var conversation = Assert.Single(workspace.Load().Conversations).Conversation;
        Assert.Equal(16, conversation.Id.Length); // no id of its own: a hash of the content
        Assert.Equal("OPO", (string?)conversation.Messages[1].ToolCalls![0].Arguments["origin"]);
    }

    [Fact]
    public void Unclosed_tool_call_unknown_role_and_unlisted_tool_are_reported_per_record()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("bad.jsonl", string.Join("\n",
            Record("a", Turn("system", System), Turn("human", "x"), Turn("gpt", "<tool_call>\n{'name': 'search_flights', 'arguments': {}}")),
            Record("b", Turn("system", System), Turn("narrator", "x")),
            Record("c", Turn("system", System), Turn("human", "x"), Turn("gpt", "<tool_call>\n{'name': 'book_hotel', 'arguments': {}}\n</tool_call>"))) + "\n");

        var (_, diagnostics, _) = workspace.Import(ImportFormat.Hermes, false, input);

        Assert.Equal([
            "in/bad.jsonl(1,1): error FCT0606: turn 2 (gpt): tool call 1: <tool_call> is never closed by </tool_call>.",
            "in/bad.jsonl(2,1): error FCT0603: turn 1: unknown role 'narrator' (expected system, human, user, gpt, model, assistant or tool).",
        ], diagnostics.Take(2).Select(d => d.ToString()));
        Assert.StartsWith("in/bad.jsonl(3,1): error FCT0604: as conversation 'c': /messages/1/tool_calls/0/name: calls 'book_hotel'", diagnostics[2].ToString());
        Assert.Equal(3, diagnostics.Count);
    }
}
