using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Interop;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tests.Evaluation;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Interop;

public class ExportTests
{
    private static List<JsonObject> Rows(string path) =>
        File.ReadAllLines(path).Select(l => (JsonObject)JsonNode.Parse(l)!).ToList();

    [Fact]
    public void Openai_export_of_the_samples_imports_back_to_the_same_conversations()
    {
        string root = SampleData.CopyToTemp();
        try
        {
            var samples = DatasetLoader.Load(root, []).Datasets;
            Assert.Equal(4, samples.Count);
            foreach (var dataset in samples)
            {
                string exported = Path.Combine(root, "export", dataset.Manifest.Name);
                var files = Exporter.Run([dataset], ExportFormat.OpenAi, exported, GemmaTokenizer.Embedded);
                Assert.Equal(dataset.Conversations.Count, files.Sum(f => f.Rows));

                string imported = Path.Combine(root, "datasets", dataset.Manifest.Name + "-imported");
                var diagnostics = new List<FcTrain.Diagnostics.Diagnostic>();
                var summary = Importer.Run(new ImportOptions(files.Select(f => f.Path).ToList(), imported, root, ImportFormat.OpenAi), diagnostics, _ => { });
                Assert.Empty(diagnostics);
                Assert.True(summary.Written);

                var loaded = DatasetLoader.Load(root, [imported]);
                Assert.Empty(loaded.Diagnostics);
                var back = Assert.Single(loaded.Datasets);
                Assert.Equal(Describe(dataset.Functions), Describe(back.Functions));
                var expected = dataset.Conversations.Select(c => c.Conversation).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
                var actual = back.Conversations.Select(c => c.Conversation).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
                Assert.Equal(expected.Select(Describe), actual.Select(Describe));
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A conversation by value: id, offered functions, and every message with its calls (arguments and results as canonical JSON).</summary>
    private static string Describe(Conversation c) =>
        $"{c.Id} [{string.Join(",", c.Functions)}]\n" + string.Join("\n", c.Messages.Select(m =>
            $"{m.Role} train={m.Train} thinking={m.Thinking} content={Json(m.Content)} tool_call_id={m.ToolCallId} name={m.Name} calls="
            + string.Join(";", (m.ToolCalls ?? []).Select(t => $"{t.Id}:{t.Name}:{Json(t.Arguments)}"))));

    private static string Describe(IEnumerable<FunctionDefinition> functions) =>
        string.Join("\n", functions.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => $"{f.Name}: {f.Description} {Json(f.Parameters)}"));

    private static string Json(JsonNode? node) => ValueSerializer.Serialize(ValueSerializer.Canonical(node), Serialization.Json);

    [Fact]
    public void Openai_export_writes_arguments_as_json_strings_weight_0_and_the_id()
    {
        string dir = Directory.CreateTempSubdirectory("fctrain-export-").FullName;
        try
        {
            var travel = SampleData.Named("travel");
            var (first, split) = travel.Conversations[0];
            var untrained = first with { Messages = first.Messages.Select(m => m.Role == Role.Assistant ? m with { Train = false } : m).ToList() };
            var dataset = travel with { Conversations = [(untrained, split)] };

            Exporter.Run([dataset], ExportFormat.OpenAi, dir, GemmaTokenizer.Embedded);

            var row = Assert.Single(Rows(Path.Combine(dir, split == Split.Train ? "train.jsonl" : "eval.jsonl")));
            Assert.Equal(first.Id, (string?)row["id"]);
            var assistant = row["messages"]!.AsArray().Single(m => (string?)m!["role"] == "assistant" && m["tool_calls"] is not null)!;
            Assert.Equal(0, (int)assistant["weight"]!);
            var arguments = assistant["tool_calls"]![0]!["function"]!["arguments"]!;
            Assert.True(JsonNode.DeepEquals(first.Messages.First(m => m.ToolCalls is not null).ToolCalls![0].Arguments, JsonNode.Parse((string)arguments!)));
            Assert.Equal("function", (string?)row["tools"]![0]!["type"]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Hf_export_has_messages_and_tools_in_the_chat_template_shape()
    {
        string dir = Directory.CreateTempSubdirectory("fctrain-export-").FullName;
        try
        {
            var files = Exporter.Run([SampleData.Named("weather")], ExportFormat.Hf, dir, GemmaTokenizer.Embedded);

            var rows = files.SelectMany(f => Rows(f.Path)).ToList();
            Assert.Equal(SampleData.Named("weather").Conversations.Count, rows.Count);
            var call = rows.SelectMany(r => r["messages"]!.AsArray()).First(m => m!["tool_calls"] is not null)!["tool_calls"]![0]!;
            Assert.Equal("function", (string?)call["type"]);
            Assert.IsType<JsonObject>(call["function"]!["arguments"]); // a dict, as the templates index it
            Assert.All(rows, r => Assert.All(r["tools"]!.AsArray(), t => Assert.NotNull(t!["function"]!["parameters"])));
            Assert.All(rows.SelectMany(r => r["messages"]!.AsArray()), m => Assert.IsAssignableFrom<JsonValue>(m!["content"]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Tokenized_export_is_fctrains_tokenization_one_unpacked_row_per_conversation_and_split()
    {
        string dir = Directory.CreateTempSubdirectory("fctrain-export-").FullName;
        try
        {
            var dataset = SampleData.Named("calendar");
            var tokenizer = GemmaTokenizer.Embedded();
            var files = Exporter.Run([dataset], ExportFormat.Tokenized, dir, _ => tokenizer);

            Assert.Equal(dataset.Conversations.Count(c => c.Split == Split.Eval), files.Single(f => f.Split == Split.Eval).Rows);
            foreach (var file in files)
                foreach (var row in Rows(file.Path))
                {
                    var (conversation, split) = dataset.Conversations.Single(c => c.Conversation.Id == (string?)row["id"]);
                    Assert.Equal(file.Split, split);
                    var expected = TokenizedConversation.From(conversation.Id, ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template), tokenizer);
                    Assert.Equal(expected.InputIds, row["input_ids"]!.AsArray().Select(i => (int)i!));
                    Assert.Equal(expected.Labels, row["labels"]!.AsArray().Select(i => (int)i!));
                    Assert.All(row["attention_mask"]!.AsArray(), m => Assert.Equal(1, (int)m!));
                    Assert.Contains(TokenizedConversation.IgnoreIndex, expected.Labels);
                }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
