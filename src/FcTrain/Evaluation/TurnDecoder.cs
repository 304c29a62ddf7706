using FcTrain.Tokenization;

namespace FcTrain.Evaluation;

/// <summary>
/// Turns the ids a model generated after the generation prompt into the text the parser reads: up to the
/// first <c>&lt;end_of_turn&gt;</c> or <c>&lt;eos&gt;</c>, decoded with every special and markup piece kept.
/// Never decode with "skip special tokens" here: with the default reserved mapping (and with added tokens)
/// <c>&lt;tool_call&gt;</c> is one special id, and skipping it turns every call into plain text, the
/// known bug of Hermes tool parsers.
/// </summary>
public static class TurnDecoder
{
    public static string Decode(GemmaTokenizer tokenizer, IEnumerable<int> generated)
    {
        int endOfTurn = tokenizer.TokenId("<end_of_turn>");
        return tokenizer.Decode(generated.TakeWhile(id => id != endOfTurn && id != GemmaTokenizer.EosId));
    }
}
