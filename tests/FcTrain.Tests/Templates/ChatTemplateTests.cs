using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Templates;

public class ChatTemplateTests
{
    public static TheoryData<string, string, string> Renders()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var c in TemplateSamples.Conversations)
        {
            data.Add(c.Id, "course", "json");
            data.Add(c.Id, "course", "hermes");
            data.Add(c.Id, "gemma", "json");
        }
        return data;
    }

    /// <summary>
    /// Golden renders, reviewed against the Jinja templates (TestData/templates/check_with_jinja.py renders the
    /// same conversations with jinja2 and compares byte for byte). A missing or different file is written as
    /// *.received.txt beside the expected one for review.
    /// </summary>
    [Theory]
    [MemberData(nameof(Renders))]
    public void Render_matches_the_golden_text(string id, string template, string serialization)
    {
        var options = new TemplateOptions(Name: template, Serialization: serialization);
        var segments = ChatTemplate.Render(TemplateSamples.Get(id), TemplateSamples.Functions, options);
        Golden.Check($"{id}.{template}.{serialization}.txt", ChatTemplate.Text(segments));
        if (serialization == "json") Golden.Check($"{id}.{template}.mask.txt", MaskView.Render(segments));
    }

    [Theory]
    [InlineData("course")]
    [InlineData("gemma")]
    public void Generation_prompt_opens_a_model_turn(string template)
    {
        var conversation = TemplateSamples.Get("single-call");
        var prompt = conversation with { Messages = conversation.Messages.Take(1).ToList() };
        var segments = ChatTemplate.Render(prompt, TemplateSamples.Functions, new TemplateOptions(Name: template), addGenerationPrompt: true);
        Golden.Check($"single-call.{template}.prompt.txt", ChatTemplate.Text(segments));
        Assert.EndsWith("<start_of_turn>model\n", ChatTemplate.Text(segments));
        // The prompt is a prefix of the full render: what the model is asked to continue is what it was trained on.
        string full = ChatTemplate.Text(ChatTemplate.Render(conversation, TemplateSamples.Functions, new TemplateOptions(Name: template)));
        Assert.StartsWith(ChatTemplate.Text(segments), full);
    }

    [Fact]
    public void Literal_end_of_turn_in_a_message_stays_text()
    {
        var tokenizer = GemmaTokenizer.Embedded();
        var segments = ChatTemplate.Render(TemplateSamples.Get("injection"), TemplateSamples.Functions, new TemplateOptions());
        var encoded = TokenizedConversation.From("injection", segments, tokenizer);
        int endOfTurn = tokenizer.TokenId("<end_of_turn>"), eos = tokenizer.TokenId("<eos>"), startOfTurn = tokenizer.TokenId("<start_of_turn>");
        // Two turns: exactly two <end_of_turn>, two <eos>, two <start_of_turn> — the ones in the text are text.
        Assert.Equal(2, encoded.InputIds.Count(i => i == endOfTurn));
        Assert.Equal(2, encoded.InputIds.Count(i => i == eos));
        Assert.Equal(2, encoded.InputIds.Count(i => i == startOfTurn));
        Assert.DoesNotContain(tokenizer.TokenId("<tool_call>"), encoded.InputIds);
        Assert.Equal(ChatTemplate.Text(segments), tokenizer.Decode(encoded.InputIds));
    }

    [Fact]
    public void Gemma_template_rejects_turns_that_do_not_alternate()
    {
        var conversation = new Conversation("bad", [], [new Message(Role.User, "a"), new Message(Role.User, "b")], new SourceSpan("d/c.jsonl", 3));
        var e = Assert.Throws<FcTrainException>(() => ChatTemplate.Render(conversation, [], new TemplateOptions(Name: "gemma")));
        Assert.Equal("FCT0124", e.Diagnostic.Code);
        Assert.Equal("d/c.jsonl(3,0): error FCT0124: conversation 'bad': the gemma template needs turns alternating user/model starting with user, but turn 2 is 'user'. Use the course template, or fix the order of the messages.", e.Diagnostic.ToString());
        // The course template writes roles as given, like its Jinja source.
        Assert.Contains("<start_of_turn>human\nb<end_of_turn><eos>\n", ChatTemplate.Text(ChatTemplate.Render(conversation, [], new TemplateOptions())));
    }

    [Theory]
    [InlineData("assistant")]
    [InlineData("all")]
    public void An_assistant_turn_marked_train_false_keeps_its_text_but_is_not_trained(string trainOn)
    {
        Message[] messages = [new(Role.User, "Hi"), new(Role.Assistant, "Hello!"), new(Role.User, "Bye"), new(Role.Assistant, "Goodbye.")];
        var trained = new Conversation("c", [], messages, new SourceSpan("c.json"));
        var context = trained with { Messages = [messages[0], messages[1] with { Train = false }, messages[2], messages[3]] };
        var options = new TemplateOptions(TrainOn: trainOn);

        var all = ChatTemplate.Render(trained, [], options);
        var some = ChatTemplate.Render(context, [], options);

        Assert.Equal(ChatTemplate.Text(all), ChatTemplate.Text(some));
        string TrainedText(IEnumerable<Segment> segments) => string.Concat(segments.Where(s => s.Trained).Select(s => s.Text));
        Assert.Contains("Hello!", TrainedText(all));
        Assert.DoesNotContain("Hello!", TrainedText(some));
        Assert.Contains("Goodbye.<end_of_turn><eos>", TrainedText(some));
        // Only the first model turn's header, text and end tokens lose their training.
        string untrainedTurn = "<start_of_turn>model\nHello!<end_of_turn><eos>";
        Assert.Equal(TrainedText(all).Replace(trainOn == "all" ? untrainedTurn : "Hello!<end_of_turn><eos>", ""), TrainedText(some));
    }

    [Fact]
    public void Unknown_options_and_functions_are_clear_errors()
    {
        var conversation = TemplateSamples.Get("single-call");
        Assert.Equal("FCT0121", Assert.Throws<FcTrainException>(() => ChatTemplate.Render(conversation, TemplateSamples.Functions, new TemplateOptions(Name: "chatml"))).Diagnostic.Code);
        Assert.Equal("FCT0120", Assert.Throws<FcTrainException>(() => ChatTemplate.Render(conversation, TemplateSamples.Functions, new TemplateOptions(Serialization: "yaml"))).Diagnostic.Code);
        Assert.Equal("FCT0122", Assert.Throws<FcTrainException>(() => ChatTemplate.Render(conversation, TemplateSamples.Functions, new TemplateOptions(TrainOn: "some"))).Diagnostic.Code);
        Assert.Equal("FCT0123", Assert.Throws<FcTrainException>(() => ChatTemplate.Render(conversation, [], new TemplateOptions())).Diagnostic.Code);
    }

    [Theory]
    [InlineData("1", "1")]
    [InlineData("-0", "0")]
    [InlineData("1.0", "1.0")]
    [InlineData("1e5", "100000.0")]
    [InlineData("1.625e2", "162.5")]
    [InlineData("1e-9", "1e-09")]
    [InlineData("0.0001", "0.0001")]
    [InlineData("0.00001", "1e-05")]
    [InlineData("1e16", "1e+16")]
    [InlineData("1234567890123456.0", "1234567890123456.0")]
    [InlineData("0.1", "0.1")]
    [InlineData("-2.5E+20", "-2.5e+20")]
    [InlineData("123456789012345678901234567890", "123456789012345678901234567890")]
    public void Numbers_are_written_as_python_writes_them(string json, string python) =>
        Assert.Equal(python, ValueSerializer.PythonNumber(json));

    [Fact]
    public void Hermes_strings_follow_python_repr()
    {
        string Repr(string s) => ValueSerializer.Serialize(System.Text.Json.Nodes.JsonValue.Create(s), Serialization.Hermes);
        Assert.Equal("'plain'", Repr("plain"));
        Assert.Equal("\"it's\"", Repr("it's"));
        Assert.Equal("'both \\' and \"'", Repr("both ' and \""));
        Assert.Equal("'a\\nb\\tc\\\\d'", Repr("a\nb\tc\\d"));
        Assert.Equal("'\\x00\\x7f\\xa0é東京😀\\u200b'", Repr("\0\x7f\u00a0é東京😀\u200b"));
    }
}

/// <summary>Checked-in expected files under TestData/templates; differences are written as *.received.txt for review.</summary>
internal static class Golden
{
    public static void Check(string name, string actual)
    {
        string expectedPath = Path.Combine(RepoPaths.Root, "tests/FcTrain.Tests/TestData/templates", name);
        string receivedPath = Path.ChangeExtension(expectedPath, ".received.txt");
        string? expected = File.Exists(expectedPath) ? File.ReadAllText(expectedPath) : null;
        if (expected == actual)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }
        File.WriteAllText(receivedPath, actual);
        Assert.Fail(expected is null ? $"no golden {name} yet: review {receivedPath} and rename it" : $"{name} differs from the golden: see {receivedPath}");
    }
}
