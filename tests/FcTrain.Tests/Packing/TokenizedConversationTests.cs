using FcTrain.Data;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tests.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Packing;

public class TokenizedConversationTests
{
    /// <summary>
    /// The ids equal what HF gets by tokenizing the rendered text with the tokenizer.json fctrain writes (markup
    /// and turn markers as added tokens): template + tokenizer together match transformers.
    /// </summary>
    [Theory]
    [InlineData(ToolTokenMode.Reserved, "course", "json")]
    [InlineData(ToolTokenMode.Reserved, "course", "hermes")]
    [InlineData(ToolTokenMode.Added, "course", "json")]
    [InlineData(ToolTokenMode.Reserved, "gemma", "json")]
    public void Ids_equal_hf_tokenizing_the_rendered_text(ToolTokenMode mode, string template, string serialization)
    {
        var tokenizer = GemmaTokenizer.Embedded(mode);
        string dir = Directory.CreateTempSubdirectory("fctrain-tok-").FullName;
        try
        {
            tokenizer.WriteHuggingFaceJson(Path.Combine(dir, "tokenizer.json"));
            var hf = new Tokenizers.DotNet.Tokenizer(Path.Combine(dir, "tokenizer.json"));
            foreach (var conversation in TemplateSamples.Conversations.Where(c => c.Id != "injection"))   // HF would parse the injected markers
            {
                var segments = ChatTemplate.Render(conversation, TemplateSamples.Functions, new TemplateOptions(Name: template, Serialization: serialization));
                var ours = TokenizedConversation.From(conversation.Id, segments, tokenizer);
                // HF's post-processor adds <bos> and the template wrote one: drop the extra, as TRL's fix does.
                int[] expected = hf.Encode(ChatTemplate.Text(segments)).Skip(1).Select(i => (int)i).ToArray();
                Assert.Equal(expected, ours.InputIds);
            }
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Labels_copy_the_ids_of_trained_segments_and_ignore_the_rest()
    {
        var tokenizer = GemmaTokenizer.Embedded();
        var segments = ChatTemplate.Render(TemplateSamples.Get("single-call"), TemplateSamples.Functions, new TemplateOptions());
        var encoded = TokenizedConversation.From("single-call", segments, tokenizer);
        Assert.Equal(encoded.InputIds.Length, encoded.Labels.Length);
        for (int i = 0; i < encoded.Length; i++)
            Assert.True(encoded.Labels[i] == TokenizedConversation.IgnoreIndex || encoded.Labels[i] == encoded.InputIds[i]);

        // Trained: exactly the model turns' content and their closing <end_of_turn><eos>.
        string trained = tokenizer.Decode(encoded.Labels.Where(l => l != TokenizedConversation.IgnoreIndex));
        string expected = string.Concat(segments.Where(s => s.Trained).Select(s => s.Text));
        Assert.Equal(expected, trained);
        Assert.StartsWith("<think>The user wants", trained);
        Assert.EndsWith("cloudy in Paris.<end_of_turn><eos>", trained);
        Assert.Equal(4, encoded.InputIds.Zip(encoded.Labels).Count(p => p.First is 1 or 107 && p.Second != TokenizedConversation.IgnoreIndex));

        var all = TokenizedConversation.From("x", ChatTemplate.Render(TemplateSamples.Get("single-call"), TemplateSamples.Functions, new TemplateOptions(TrainOn: "all")), tokenizer);
        Assert.Equal(all.InputIds, all.Labels);
        Assert.Equal(encoded.InputIds, all.InputIds);
    }
}
