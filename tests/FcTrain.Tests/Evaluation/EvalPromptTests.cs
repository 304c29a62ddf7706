using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Evaluation;

public class EvalPromptTests
{
    [Fact]
    public void EveryPrompt_IsAPrefixOfTheTrainingIds_EndingWithTheGenerationPrompt()
    {
        var tokenizer = GemmaTokenizer.Embedded();
        int startOfTurn = tokenizer.TokenId("<start_of_turn>");
        int checkedCases = 0;
        foreach (var dataset in SampleData.Datasets)
        foreach (var split in new[] { Split.Train, Split.Eval })
        foreach (var c in EvalCase.From(dataset, split))
        {
            int[] prompt = EvalPrompt.Encode(c, tokenizer);
            int[] full = TokenizedConversation.From(c.Id, ChatTemplate.Render(c.Conversation, dataset.Functions, c.Template), tokenizer).InputIds;
            Assert.True(full.Length > prompt.Length, c.Id);
            Assert.True(full.AsSpan(0, prompt.Length).SequenceEqual(prompt), $"{c.Id}: the prompt is not a prefix of the training ids");
            Assert.Equal(startOfTurn, prompt[^3]);
            Assert.Equal("model\n", tokenizer.Decode(prompt[^2..]));
            checkedCases++;
        }
        Assert.True(checkedCases > 90, $"{checkedCases} cases");
    }

    [Fact]
    public void Prompt_EndsWithTheGenerationPrompt_AndHoldsNoGoldText()
    {
        var c = EvalCase.From(SampleData.Named("weather"), Split.Train).First(c => c.ExpectsCall);
        string text = ChatTemplate.Text(EvalPrompt.Render(c));
        Assert.StartsWith("<bos><start_of_turn>human\n", text);
        Assert.EndsWith("<start_of_turn>model\n", text);
        Assert.DoesNotContain(c.Gold.Thinking!, text);
    }
}
