using FcTrain.Evaluation;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Evaluation;

/// <summary>Decoding a generated turn with the real Gemma tokenizer, tool markup as single ids.</summary>
public class TurnDecoderTests
{
    // What the model emits: markup and turn tokens as single ids, the rest as ordinary text pieces.
    private static List<int> Generated(GemmaTokenizer t)
    {
        var ids = new List<int> { t.TokenId("<think>") };
        ids.AddRange(t.Encode("Forecast for Oslo, 3 days."));
        ids.Add(t.TokenId("</think>"));
        ids.Add(t.TokenId("<tool_call>"));
        ids.AddRange(t.Encode("\n{\"name\": \"get_forecast\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n"));
        ids.Add(t.TokenId("</tool_call>"));
        ids.Add(t.TokenId("<end_of_turn>"));
        ids.Add(GemmaTokenizer.EosId);
        ids.AddRange(t.Encode("text after the turn is never read"));
        return ids;
    }

    [Theory]
    [InlineData(ToolTokenMode.Reserved)]
    [InlineData(ToolTokenMode.Added)]
    public void MarkupKept_TheCallParses(ToolTokenMode markup)
    {
        var tokenizer = GemmaTokenizer.Embedded(markup);
        string text = TurnDecoder.Decode(tokenizer, Generated(tokenizer));

        Assert.Equal("<think>Forecast for Oslo, 3 days.</think><tool_call>\n{\"name\": \"get_forecast\", \"arguments\": {\"city\": \"Oslo\", \"days\": 3}}\n</tool_call>", text);
        var turn = ToolCallParser.Parse(text);
        Assert.Equal("Forecast for Oslo, 3 days.", turn.Thinking);
        Assert.Equal("get_forecast", Assert.Single(turn.Calls).Name);
    }

    [Fact]
    public void SkippingSpecialIds_LosesTheCall_WhichIsWhyTheDecoderKeepsThem()
    {
        // A skip_special_tokens decoder drops every special id; markup mapped onto <unusedN> is special.
        var tokenizer = GemmaTokenizer.Embedded(ToolTokenMode.Reserved);
        var special = tokenizer.MarkupIds.Append(tokenizer.TokenId("<end_of_turn>")).Append(GemmaTokenizer.EosId).ToHashSet();
        var generated = Generated(tokenizer);
        string skipped = tokenizer.Decode(generated.TakeWhile(id => id != tokenizer.TokenId("<end_of_turn>")).Where(id => !special.Contains(id)));

        var turn = ToolCallParser.Parse(skipped);
        Assert.Empty(turn.Calls);
        Assert.Equal(AnswerKind.Text, turn.Kind);
        Assert.Contains("get_forecast", turn.Text);
    }
}
