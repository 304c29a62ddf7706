using Microsoft.ML.Tokenizers;

namespace FcTrain.Tokenization;

/// <summary>
/// Cuts normalized Gemma text (spaces already escaped to '▁') into the chunks <c>\n+ | ▁*[^▁\n]+ | ▁+</c>.
/// No piece of the Gemma vocabulary crosses these cuts, so BPE per chunk gives the ids of BPE over the
/// whole text (what HF tokenizers does, the Gemma tokenizer.json has no pre-tokenizer), while keeping
/// merging linear in the text length: whole-text BPE is quadratic (13 s for 256K characters).
/// </summary>
internal sealed class GemmaPreTokenizer : PreTokenizer
{
    public const char Space = '▁';

    public static readonly GemmaPreTokenizer Instance = new();

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) =>
        string.IsNullOrEmpty(text) ? [] : Chunks(text.AsMemory());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var chunks = new List<(int, int)>();
        for (int start = 0, end; start < text.Length; start = end)
        {
            end = NextCut(text, start);
            chunks.Add((start, end - start));
        }
        return chunks;
    }

    private static IEnumerable<(int Offset, int Length)> Chunks(ReadOnlyMemory<char> text)
    {
        for (int start = 0, end; start < text.Length; start = end)
        {
            end = NextCut(text.Span, start);
            yield return (start, end - start);
        }
    }

    /// <summary>
    /// The end of the chunk that starts at <paramref name="start"/>. Works on raw text as well as normalized
    /// text: a space counts as the '▁' it becomes.
    /// </summary>
    public static int NextCut(ReadOnlySpan<char> text, int start)
    {
        int i = start;
        if (text[i] == '\n')
        {
            while (i < text.Length && text[i] == '\n') i++;
            return i;
        }
        while (i < text.Length && IsSpace(text[i])) i++;                       // ▁*
        while (i < text.Length && !IsSpace(text[i]) && text[i] != '\n') i++;   // [^▁\n]+ (empty: the chunk is ▁+)
        return i;
    }

    private static bool IsSpace(char c) => c == Space || c == ' ';
}
