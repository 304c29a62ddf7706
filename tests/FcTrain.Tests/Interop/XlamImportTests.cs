using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Interop;

namespace FcTrain.Tests.Interop;

public class XlamImportTests
{
    private static string Record(int id, string query, string tools, string answers) =>
        new JsonObject { ["id"] = id, ["query"] = query, ["tools"] = tools, ["answers"] = answers }.ToJsonString();

    private const string GiveawayTools = """[{"name": "live_giveaways_by_type", "description": "Retrieve live giveaways.", "parameters": {"type": {"description": "Kind of giveaway.", "type": "str", "default": "game"}}}]""";

    private const string ManyTypes = """
        [{"name": "stats", "description": "Statistics of numbers.", "parameters": {
          "numbers": {"description": "The numbers.", "type": "List[int]"},
          "weights": {"description": "Weights.", "type": "List[float], optional"},
          "options": {"description": "Options.", "type": "Dict[str, Any]"},
          "precision": {"description": "Digits.", "type": "int", "default": 2},
          "verbose": {"description": "Talk.", "type": "bool, optional"},
          "label": {"description": "A label.", "type": "Optional[str]"},
          "ratio": {"description": "A ratio.", "type": "float"}}}]
        """;

    [Fact]
    public void Xlam_types_become_json_schema_and_defaults_or_optional_are_not_required()
    {
        var parameters = XlamTypes.Parameters((JsonObject)((JsonArray)JsonNode.Parse(ManyTypes)!)[0]!["parameters"]!, "t");

        Assert.Equal("""{"type":"object","properties":{"numbers":{"type":"array","items":{"type":"integer"},"description":"The numbers."},"weights":{"type":"array","items":{"type":"number"},"description":"Weights."},"options":{"type":"object","description":"Options."},"precision":{"type":"integer","description":"Digits.","default":2},"verbose":{"type":"boolean","description":"Talk."},"label":{"type":"string","description":"A label."},"ratio":{"type":"number","description":"A ratio."}},"required":["numbers","options","ratio"]}""",
            parameters.ToJsonString());
    }

    [Theory]
    [InlineData("Tuple[int, str]", """{"type":"array","prefixItems":[{"type":"integer"},{"type":"string"}]}""")]
    [InlineData("List[List[str]]", """{"type":"array","items":{"type":"array","items":{"type":"string"}}}""")]
    [InlineData("Union[int, str]", """{"anyOf":[{"type":"integer"},{"type":"string"}]}""")]
    [InlineData("Any", "{}")]
    [InlineData("list", """{"type":"array"}""")]
    public void Nested_xlam_types(string type, string schema) => Assert.Equal(schema, XlamTypes.Schema(type, "t", "p").ToJsonString());

    [Fact]
    public void An_unknown_xlam_type_is_an_error_naming_it() =>
        Assert.Contains("'frozenset'", Assert.Throws<RecordException>(() => XlamTypes.Schema("frozenset", "tools[0] ('f')", "p")).Message);

    [Fact]
    public void Xlam_records_import_into_a_dataset_that_validates_with_parallel_calls_and_shared_functions()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("xlam.jsonl", string.Join("\n",
            Record(0, "Live giveaways for beta access and games?", GiveawayTools,
                """[{"name": "live_giveaways_by_type", "arguments": {"type": "beta"}}, {"name": "live_giveaways_by_type", "arguments": {"type": "game"}}]"""),
            Record(1, "Stats of 1, 2, 3 with one digit.", ManyTypes, """[{"name": "stats", "arguments": {"numbers": [1, 2, 3], "options": {}, "ratio": 0.5, "precision": 1}}]"""),
            Record(2, "Loot giveaways?", GiveawayTools, """[{"name": "live_giveaways_by_type", "arguments": {"type": "loot"}}]""")) + "\n");

        var (summary, diagnostics, log) = workspace.Import(null, false, input);

        Assert.Empty(diagnostics);
        Assert.Equal((ImportFormat.Xlam, true, 3L, 3L, 2), (summary.Format, summary.Detected, summary.Records, summary.Imported, summary.Functions));
        Assert.Contains(log, l => l.StartsWith("format xlam (detected", StringComparison.Ordinal));
        var dataset = workspace.Load();
        Assert.Equal(["live_giveaways_by_type", "stats"], dataset.Functions.Select(f => f.Name).Order());
        var first = dataset.Conversations.Select(c => c.Conversation).Single(c => c.Id == "0");
        Assert.Equal([Role.User, Role.Assistant], first.Messages.Select(m => m.Role));
        Assert.Equal(["beta", "game"], first.Messages[1].ToolCalls!.Select(c => (string)c.Arguments["type"]!));
        Assert.Equal("../../../schemas/conversation.v1.schema.json", (string?)JsonNode.Parse(workspace.Files()["conversations/0.json"])!["$schema"]);
        Assert.Equal("../../schemas/dataset.v1.schema.json", (string?)JsonNode.Parse(workspace.Files()["dataset.json"])!["$schema"]);
    }

    [Fact]
    public void Bad_records_are_reported_with_line_and_reason_and_nothing_is_written_without_skip_invalid()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("bad.jsonl", string.Join("\n",
            Record(0, "ok", GiveawayTools, """[{"name": "live_giveaways_by_type", "arguments": {"type": "beta"}}]"""),
            "{\"id\": 1, \"query\": ",
            Record(2, "unlisted", GiveawayTools, """[{"name": "delete_everything", "arguments": {}}]"""),
            Record(3, "bad arguments", ManyTypes, """[{"name": "stats", "arguments": {"numbers": ["one"], "options": {}, "ratio": 0.5}}]"""),
            Record(4, "conflict", """[{"name": "live_giveaways_by_type", "description": "Other.", "parameters": {"type": {"description": "x", "type": "int"}}}]""",
                """[{"name": "live_giveaways_by_type", "arguments": {"type": 1}}]""")) + "\n");

        var (summary, diagnostics, _) = workspace.Import(ImportFormat.Xlam, false, input);

        var lines = diagnostics.Select(d => d.ToString()).ToList();
        Assert.Equal(4, lines.Count);
        Assert.Matches(@"^in/bad\.jsonl\(2,\d+\): error FCT0601: malformed JSON", lines[0]);
        Assert.StartsWith("in/bad.jsonl(3,1): error FCT0604: as conversation '2': /messages/1/tool_calls/0/name: calls 'delete_everything'", lines[1]);
        Assert.StartsWith("in/bad.jsonl(4,1): error FCT0605: as conversation '3': /messages/1/tool_calls/0/arguments/numbers/0:", lines[2]);
        Assert.StartsWith("in/bad.jsonl(5,1): error FCT0608: the function 'live_giveaways_by_type' is defined with other parameters here than by the record at in/bad.jsonl(1,1)", lines[3]);
        Assert.False(summary.Written);
        Assert.False(Directory.Exists(workspace.Out));

        var (skipped, again, _) = workspace.Import(ImportFormat.Xlam, true, input);
        Assert.Equal(4, again.Count);
        Assert.All(again.Skip(1), d => Assert.EndsWith("The record is skipped.", d.Message));
        Assert.True(skipped.Written);
        Assert.Equal(1, skipped.Imported);
        Assert.Single(workspace.Load().Conversations);
    }
}
