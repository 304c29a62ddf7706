using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Interop;

namespace FcTrain.Tests.Interop;

public class OpenAiImportTests
{
    private const string Tools = """[{"type":"function","function":{"name":"get_weather","description":"Weather of a city.","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}]""";

    private static string Record(string messages, string extra = "") => $$"""{"messages":{{messages}},"tools":{{Tools}}{{extra}}}""";

    [Fact]
    public void Openai_records_keep_weight_0_turns_in_context_untrained()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("openai.jsonl", Record("""
            [{"role":"system","content":"Be brief."},{"role":"user","content":"Weather in Paris?"},
             {"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}],"weight":0},
             {"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"},
             {"role":"assistant","content":"21°C."}]
            """.ReplaceLineEndings(""), ",\"parallel_tool_calls\":false") + "\n");

        var (summary, diagnostics, _) = workspace.Import(null, false, input);

        Assert.Empty(diagnostics);
        Assert.Equal(ImportFormat.OpenAi, summary.Format);
        var conversation = Assert.Single(workspace.Load().Conversations).Conversation;
        Assert.Equal([Role.System, Role.User, Role.Assistant, Role.Tool, Role.Assistant], conversation.Messages.Select(m => m.Role));
        Assert.False(conversation.Messages[2].Train);
        Assert.True(conversation.Messages[4].Train);
        Assert.Equal("get_weather", conversation.Messages[3].Name);
        Assert.Equal("""{"temp":21}""", conversation.Messages[3].Content!.ToJsonString());
        Assert.Contains("\"train\": false", workspace.Files().Single(f => f.Key.StartsWith("conversations/", StringComparison.Ordinal)).Value);
    }

    [Fact]
    public void Bad_arguments_unknown_roles_and_parallel_calls_against_the_flag_are_errors()
    {
        using var workspace = new ImportWorkspace();
        string call(string id, string args) => $$$"""{"id":"{{{id}}}","type":"function","function":{"name":"get_weather","arguments":"{{{args}}}"}}""";
        string input = workspace.Write("bad.jsonl", string.Join("\n",
            Record($$"""[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{{call("c1", "{city: Paris}")}}]}]"""),
            Record("""[{"role":"user","content":"x"},{"role":"narrator","content":"y"}]"""),
            Record($$"""[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{{call("c1", "{\\\"city\\\":1}")}}]}]"""),
            Record($$"""[{"role":"user","content":"x"},{"role":"assistant","tool_calls":[{{call("c1", "{}")}},{{call("c2", "{}")}}]}]""", ",\"parallel_tool_calls\":false")) + "\n");

        var (_, diagnostics, _) = workspace.Import(ImportFormat.OpenAi, false, input);

        Assert.Equal(4, diagnostics.Count);
        Assert.StartsWith("in/bad.jsonl(1,1): error FCT0601: messages[1].tool_calls[0]: the arguments of 'get_weather' are not valid JSON", diagnostics[0].ToString());
        Assert.StartsWith("in/bad.jsonl(2,1): error FCT0603: messages[1]: unknown role 'narrator'", diagnostics[1].ToString());
        Assert.StartsWith("in/bad.jsonl(3,1): error FCT0605: as conversation", diagnostics[2].ToString());
        Assert.StartsWith("in/bad.jsonl(4,1): error FCT0603: \"parallel_tool_calls\" is false, but messages[1] makes 2 calls at once.", diagnostics[3].ToString());
    }

    [Fact]
    public void Importing_the_same_input_twice_gives_the_same_files_and_many_records_go_to_jsonl_parts()
    {
        using var workspace = new ImportWorkspace();
        var lines = Enumerable.Range(0, ImportWriter.JsonFileLimit + 1).Select(i => Record(
            $$$"""[{"role":"user","content":"Weather in city {{{i}}}?"},{"role":"assistant","tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"C{{{i}}}\"}"}}]}]"""));
        string input = workspace.Write("many.jsonl", string.Join("\n", lines) + "\n");

        var (summary, diagnostics, _) = workspace.Import(ImportFormat.OpenAi, false, input);
        var first = workspace.Files();
        var (_, again, _) = workspace.Import(ImportFormat.OpenAi, false, input);

        Assert.Empty(diagnostics);
        Assert.Empty(again);
        Assert.True(summary.Jsonl);
        Assert.Equal(["conversations/part-00000.jsonl", "dataset.json", "functions/get_weather.json"], first.Keys);
        Assert.Equal(first, workspace.Files());
        Assert.Equal(ImportWriter.JsonFileLimit + 1, workspace.Load().Conversations.Count);
        Assert.Equal([workspace.Out], Directory.EnumerateDirectories(Path.GetDirectoryName(workspace.Out)!)); // no staging folder left
    }

    [Fact]
    public void Own_ids_are_kept_made_schema_safe_and_a_repeated_id_is_an_error_naming_the_first()
    {
        using var workspace = new ImportWorkspace();
        const string Chat = """[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]""";
        string input = workspace.Write("ids.json", $$$"""
            [
              {"id": "chat 1/a", "messages": {{{Chat}}}},
              {"id": "chat 1/a", "messages": {{{Chat}}}}
            ]
            """);

        var (summary, diagnostics, _) = workspace.Import(ImportFormat.OpenAi, true, input);

        Assert.Equal("in/ids.json(3,3): error FCT0609: the id 'chat-1-a' is already used by the record at in/ids.json(2,3). Give each record its own id. The record is skipped.",
            Assert.Single(diagnostics).ToString());
        Assert.Equal(1, summary.Imported);
        // No record lists a tool: the manifest's functions/*.json matches no file, which validate only warns about.
        Assert.Equal("chat-1-a", Assert.Single(workspace.Load("FCT1003").Conversations).Conversation.Id);
    }

    [Fact]
    public void A_folder_that_is_not_an_earlier_import_is_not_overwritten()
    {
        using var workspace = new ImportWorkspace();
        Directory.CreateDirectory(workspace.Out);
        File.WriteAllText(Path.Combine(workspace.Out, "notes.txt"), "mine");
        string input = workspace.Write("one.jsonl", Record("""[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]""") + "\n");

        var e = Assert.Throws<FcTrain.Diagnostics.FcTrainException>(() => workspace.Import(ImportFormat.OpenAi, false, input));

        Assert.Equal(ImportCodes.OutputNotEmpty, e.Diagnostic.Code);
        Assert.Equal("mine", File.ReadAllText(Path.Combine(workspace.Out, "notes.txt")));
    }
}
