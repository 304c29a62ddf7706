using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Interop;
using FcTrain.Packing;
using FcTrain.Serving;
using FcTrain.Templates;
using FcTrain.Tests.Evaluation;
using FcTrain.Tests.Templates;
using FcTrain.Tests.Tokenization;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Serving;

/// <summary>
/// The serving chat template against the training template: for every sample conversation (the repository's
/// datasets and TestData/templates), jinja2 rendering its <c>fctrain export --format openai</c> record equals
/// <see cref="ChatTemplate.Render"/> byte for byte, with both templates (course, gemma), without and with
/// add_generation_prompt (the prompt before each assistant turn).
/// </summary>
public sealed class ServingTemplateTests
{
    private sealed record Sample(string Id, Conversation Conversation, IReadOnlyList<FunctionDefinition> Functions, bool AddGenerationPrompt);

    /// <summary>Every conversation whole, and cut before each of its assistant turns with the generation prompt.</summary>
    private static IEnumerable<Sample> Samples(Conversation conversation, IReadOnlyList<FunctionDefinition> functions)
    {
        yield return new Sample(conversation.Id, conversation, functions, false);
        for (int i = 0; i < conversation.Messages.Count; i++)
            if (conversation.Messages[i].Role == Role.Assistant)
                yield return new Sample($"{conversation.Id}[..{i}]", conversation with { Messages = conversation.Messages.Take(i).ToList() }, functions, true);
    }

    private static IEnumerable<Sample> AllSamples() =>
        SampleData.Datasets.SelectMany(d => d.Conversations.SelectMany(c => Samples(c.Conversation, d.Functions)))
            .Concat(TemplateSamples.Conversations.SelectMany(c => Samples(c, TemplateSamples.Functions)));

    [Theory]
    [InlineData("course")]
    [InlineData("gemma")]
    public void Jinja_render_of_the_openai_export_equals_the_training_render(string templateName)
    {
        var options = new TemplateOptions(Name: templateName);
        var samples = AllSamples().ToList();
        var cases = samples.Select(s =>
        {
            var record = OpenAiFormat.Write(s.Conversation, s.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal));
            return new JinjaOracle.Case(record["messages"]!.AsArray(), record["tools"]!.AsArray(), s.AddGenerationPrompt);
        }).ToList();
        var rendered = JinjaOracle.Render(ServingTemplate.Jinja(options), cases);

        int compared = 0, refused = 0;
        var failures = new List<string>();
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            string? expected;
            try { expected = ChatTemplate.Text(ChatTemplate.Render(s.Conversation, s.Functions, options, s.AddGenerationPrompt)); }
            catch (FcTrainException) { expected = null; }
            var actual = rendered[i];
            if (expected is null)
            {
                // The training template refuses it (e.g. gemma's alternation): the serving template must refuse it too.
                if (actual.Error is null) failures.Add($"{s.Id}: training refuses it, jinja rendered:\n{actual.Text}");
                else refused++;
            }
            else if (actual.Text != expected) failures.Add($"{s.Id}: jinja {(actual.Error ?? "rendered")}\n--- expected\n{expected}\n--- jinja\n{actual.Text}");
            else compared++;
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {samples.Count} differ:\n" + string.Join("\n\n", failures.Take(3)));
        Assert.True(compared >= samples.Count / 2, $"only {compared} of {samples.Count} rendered ({refused} refused by both)");
    }

    [Fact]
    public void Structured_arguments_reasoning_content_and_plain_messages_render_as_training_does()
    {
        // What a transformers user passes: arguments as a dict (keys unsorted), reasoning in reasoning_content,
        // a tool result as a dict, no ids (the tool message names the function).
        var conversation = TemplateSamples.Get("single-call");
        var options = new TemplateOptions();
        string expected = ChatTemplate.Text(ChatTemplate.Render(conversation, TemplateSamples.Functions, options));
        var messages = JsonNode.Parse("""
            [{"role": "user", "content": "What's the weather in Paris?"},
             {"role": "assistant", "reasoning_content": "The user wants the weather in Paris, so I call get_weather with city Paris.", "content": null,
              "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": {"unit": "celsius", "city": "Paris"}}}]},
             {"role": "tool", "name": "get_weather", "content": {"temperature": 18.5, "condition": "cloudy", "humidity": 0.7, "rain": false, "alerts": null}},
             {"role": "assistant", "content": "It is 18.5 °C and cloudy in Paris."}]
            """)!.AsArray();
        var tools = new JsonArray(conversation.Functions.Select(n => (JsonNode?)ToolJson.Tool(TemplateSamples.Functions.Single(f => f.Name == n))).ToArray());
        var result = JinjaOracle.Render(ServingTemplate.Jinja(options), [new(messages, tools, false)]).Single();
        Assert.Null(result.Error);
        Assert.Equal(expected, result.Text);
        Assert.Contains("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"celsius\"}}\n</tool_call>", result.Text);
    }

    [Fact]
    public void Hermes_serialization_cannot_be_served_and_says_so()
    {
        var error = Assert.Throws<FcTrainException>(() => ServingTemplate.Jinja(new TemplateOptions(Serialization: "hermes"), "datasets/x/dataset.json"));
        Assert.Equal(ServingCodes.HermesNotExpressible, error.Diagnostic.Code);
        Assert.StartsWith("datasets/x/dataset.json: error FCT0614: template.serialization 'hermes' cannot be served", error.Diagnostic.ToString());
    }

    /// <summary>
    /// Both tool-token modes: the files merge writes make HF's tokenizer (Rust, the one transformers and vLLM use) turn
    /// the jinja render of every sample dataset conversation into the ids training used, markup tags included.
    /// </summary>
    [Theory]
    [Trait("Category", "Slow")]
    [InlineData(ToolTokenMode.Reserved)]
    [InlineData(ToolTokenMode.Added)]
    public void Serving_files_tokenize_the_jinja_render_to_the_training_ids(ToolTokenMode mode)
    {
        string folder = Directory.CreateTempSubdirectory("fctrain-serving-").FullName;
        try
        {
            var options = new TemplateOptions(ToolTokens: ToolTokens.Name(mode));
            var tokenizer = GemmaTokenizer.Embedded(mode);
            var written = ServingFiles.Write(folder, options, tokenizer, baseModelFolder: folder);
            Assert.Equal(["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json", "Modelfile", "README.md"],
                written.Select(Path.GetFileName));

            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!;
            Assert.Equal(ServingTemplate.Jinja(options), (string?)config["chat_template"]);
            var generation = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "generation_config.json")))!;
            Assert.Equal("[1,107]", generation["eos_token_id"]!.ToJsonString());
            Assert.Equal(2, (int)generation["bos_token_id"]!);
            Assert.Equal(0, (int)generation["pad_token_id"]!);

            var hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(folder, "tokenizer.json"));
            var conversations = SampleData.Datasets.SelectMany(d => d.Conversations.Select(c => (d, c.Conversation))).ToList();
            var rendered = JinjaOracle.Render((string)config["chat_template"]!, conversations.Select(x =>
            {
                var record = OpenAiFormat.Write(x.Conversation, x.d.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal));
                return new JinjaOracle.Case(record["messages"]!.AsArray(), record["tools"]!.AsArray(), false);
            }).ToList());
            for (int i = 0; i < conversations.Count; i++)
            {
                var (dataset, conversation) = conversations[i];
                var training = TokenizedConversation.From(conversation.Id, ChatTemplate.Render(conversation, dataset.Functions, options), tokenizer);
                var serving = hf.Encode(rendered[i].Text!).Select(id => (int)id).ToArray();
                if (serving.Length > 1 && serving[0] == GemmaTokenizer.BosId && serving[1] == GemmaTokenizer.BosId) serving = serving[1..];   // the post-processor's <bos> before the template's
                Assert.True(training.InputIds.SequenceEqual(serving), $"{conversation.Id}: serving ids differ from training ids");
            }
            Assert.Contains(tokenizer.MarkupIds[4], hf.Encode(rendered.First(r => r.Text!.Contains("<tool_call>")).Text!).Select(id => (int)id));
        }
        finally { Directory.Delete(folder, recursive: true); }
    }

    [Fact]
    public void Modelfile_and_readme_name_the_gguf_the_stop_token_and_the_serving_commands()
    {
        string folder = Path.Combine(Directory.CreateTempSubdirectory("fctrain-serving-").FullName, "weather-merged");
        Directory.CreateDirectory(folder);
        try
        {
            ServingFiles.Write(folder, new TemplateOptions(), GemmaTokenizer.Embedded(), baseModelFolder: folder);
            string modelfile = File.ReadAllText(Path.Combine(folder, "Modelfile"));
            Assert.Contains("FROM ./weather-merged.gguf\n", modelfile);
            Assert.Contains("PARAMETER stop \"<end_of_turn>\"", modelfile);
            Assert.Contains("range $j, $t := $.Tools", modelfile);
            Assert.Contains("range $k, $c := $m.ToolCalls", modelfile);
            Assert.Contains("<start_of_turn>human{{ \"\\n\" }}", modelfile);
            Assert.DoesNotContain("@", modelfile);   // every placeholder filled

            string readme = File.ReadAllText(Path.Combine(folder, "README.md"));
            Assert.Contains("vllm serve weather-merged --enable-auto-tool-choice --tool-call-parser hermes --chat-template weather-merged/chat_template.jinja", readme);
            Assert.Contains("python convert_hf_to_gguf.py weather-merged --outfile weather-merged/weather-merged.gguf", readme);
            Assert.Contains("ollama create weather-merged -f weather-merged/Modelfile", readme);
        }
        finally { Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true); }
    }
}
