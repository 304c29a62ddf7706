using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Evaluation;

/// <summary>
/// The prompt of a case: its conversation up to (not including) the gold turn, rendered with the dataset's
/// training template and the generation prompt (<c>&lt;start_of_turn&gt;model\n</c>), tokenized as in
/// training. So the model is asked exactly what it was taught: the prompt ids are a prefix of the
/// training ids of the whole conversation.
/// </summary>
public static class EvalPrompt
{
    public static IReadOnlyList<Segment> Render(EvalCase c) =>
        ChatTemplate.Render(c.Conversation with { Messages = c.Prompt }, c.Offered, c.Template, addGenerationPrompt: true);

    public static int[] Encode(EvalCase c, GemmaTokenizer tokenizer) =>
        TokenizedConversation.From(c.Id, Render(c), tokenizer).InputIds;
}
