using System.Text.Json;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Tokenization;

public sealed class HfReferenceFixture : IDisposable
{
    public GemmaTokenizer Reserved { get; } = GemmaTokenizer.Embedded(ToolMarkup.Reserved);
    public HfTokenizer Hf { get; }
    public HfReferenceFixture() => Hf = HfTokenizer.OnSourceFile();
    public void Dispose() => Hf.Dispose();
}

public class GemmaTokenizerTests(HfReferenceFixture fixture) : IClassFixture<HfReferenceFixture>
{
    readonly GemmaTokenizer _tok = fixture.Reserved;

    [Fact]
    public void Ids_equal_hf_tokenizers_on_the_generated_corpus()
    {
        var corpus = TextCorpus.Generate(6_000);
        int mismatches = 0, tokens = 0;
        var first = new List<string>();
        foreach (string text in corpus)
        {
            int[] ours = _tok.Encode(text), theirs = fixture.Hf.Encode(text);
            tokens += theirs.Length;
            if (!ours.SequenceEqual(theirs))
            {
                mismatches++;
                if (first.Count < 3) first.Add($"{JsonSerializer.Serialize(text)}\n ours {string.Join(",", ours)}\n hf   {string.Join(",", theirs)}");
            }
        }
        Assert.True(tokens > 300_000, $"corpus too small: {tokens} tokens");
        Assert.True(mismatches == 0, $"{mismatches} of {corpus.Count} texts differ:\n{string.Join("\n", first)}");
    }

    [Fact]
    public void Decode_equals_hf_and_round_trips_the_corpus()
    {
        foreach (string text in TextCorpus.Generate(1_500, seed: 7))
        {
            int[] ids = _tok.Encode(text);
            Assert.Equal(fixture.Hf.Decode(ids), _tok.Decode(ids));
            if (!text.Contains('▁')) Assert.Equal(text, _tok.Decode(ids)); // HF's decoder, too, turns "▁" into " "
        }
    }

    [Theory]
    [InlineData("Hello world", new[] { 4521, 2134 })]
    [InlineData("  two spaces", new[] { 139, 9721, 14130 })]
    public void Known_ids(string text, int[] expected) => Assert.Equal(expected, _tok.Encode(text));

    [Fact]
    public void Special_tokens_in_text_stay_text()
    {
        int[] ids = _tok.Encode("<end_of_turn>\n<start_of_turn>model\n<tool_call><eos><bos>");
        Assert.DoesNotContain(_tok.EndOfTurn, ids);
        Assert.DoesNotContain(_tok.StartOfTurn, ids);
        Assert.DoesNotContain(_tok.Eos, ids);
        Assert.DoesNotContain(_tok.Bos, ids);
        Assert.DoesNotContain(_tok.TokenId("<tool_call>"), ids);
        Assert.Equal("<end_of_turn>\n<start_of_turn>model\n<tool_call><eos><bos>", _tok.Decode(ids));
    }

    [Fact]
    public void Byte_fallback_for_characters_outside_the_vocabulary()
    {
        int[] ids = _tok.Encode("\U0001D11E"); // MUSICAL SYMBOL G CLEF is not a piece: its four UTF-8 bytes are
        Assert.Equal(["<0xF0>", "<0x9D>", "<0x84>", "<0x9E>"], ids.Select(_tok.Piece));
        Assert.Equal("\U0001D11E", _tok.Decode(ids));
        Assert.Equal("\uFFFD\uFFFD", _tok.Decode([_tok.TokenId("<0xF0>"), _tok.TokenId("<0x9F>")]));
    }

    [Fact]
    public void Reserved_markup_maps_onto_unused_ids_without_growing_the_vocabulary()
    {
        Assert.Equal(256_000, _tok.VocabSize);
        Assert.Equal(7, _tok.TokenId("<tools>"));
        Assert.Equal(14, _tok.TokenId("</tool_response>"));
        Assert.Equal(106, _tok.StartOfTurn);
        Assert.Equal(107, _tok.EndOfTurn);
        Assert.Equal("<tool_call>x</tool_call>", _tok.Decode([_tok.TokenId("<tool_call>"), _tok.TokenId("x"), _tok.TokenId("</tool_call>")]));
    }

    [Fact]
    public void Added_markup_appends_ids_and_round_trips_through_tokenizer_json()
    {
        var added = GemmaTokenizer.Embedded(ToolMarkup.Added);
        Assert.Equal(256_008, added.VocabSize);
        Assert.Equal(Enumerable.Range(256_000, 8), GemmaTokenizer.MarkupTokens.Select(added.TokenId));
        Assert.NotEqual(added.ContentHash, _tok.ContentHash);

        // HF loads the saved file with the markup as single tokens, and so do we.
        using var hf = HfTokenizer.Describing(added);
        string text = "<tool_call>\n{\"name\": \"f\"}\n</tool_call><tool_response>\n{}\n</tool_response>";
        int[] hfIds = hf.Encode(text);
        Assert.Contains(256_004, hfIds);
        Assert.Contains(256_007, hfIds);
        string dir = Directory.CreateTempSubdirectory("fctrain-tok-").FullName;
        try
        {
            added.Save(dir);
            var reloaded = GemmaTokenizer.FromFolder(dir, ToolMarkup.Reserved); // the file decides: its markup ids win
            Assert.Equal(256_008, reloaded.VocabSize);
            Assert.Equal(256_004, reloaded.TokenId("<tool_call>"));
            Assert.Equal(_tok.Encode("plain text, 123"), reloaded.Encode("plain text, 123"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Saved_reserved_tokenizer_reloads_to_the_same_ids()
    {
        string dir = Directory.CreateTempSubdirectory("fctrain-tok-").FullName;
        try
        {
            _tok.Save(dir);
            var reloaded = GemmaTokenizer.FromFolder(dir);
            Assert.Equal(256_000, reloaded.VocabSize);
            Assert.Equal(7, reloaded.TokenId("<tools>"));
            Assert.Throws<ArgumentException>(() => reloaded.TokenId("<unused0>"));
            Assert.Equal(_tok.Encode("Zürich 東京 🚀"), reloaded.Encode("Zürich 東京 🚀"));
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Missing_tokenizer_json_is_a_clear_error()
    {
        var e = Assert.Throws<FcTrain.Diagnostics.FcTrainException>(() => GemmaTokenizer.FromFolder("/nonexistent-model"));
        Assert.Equal("FCT0101", e.Diagnostic.Code);
    }
}
