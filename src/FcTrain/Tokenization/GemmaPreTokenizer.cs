using Microsoft.ML.Tokenizers;

namespace FcTrain.Tokenization;

/// <summary>
/// Cuts Gemma text into the chunks <c>\n+ | c | ▁*[^▁\nc]+ | ▁+</c>, where <c>c</c> is a character that occurs in
/// no merge ("isolated": for Gemma the ASCII digits) and a space counts as the '▁' it becomes. No piece BPE can
/// build crosses these cuts — Gemma has no piece joining a newline to anything else or a word to a following
/// '▁', and a piece holding an isolated character beside another cannot be reached by merges — so BPE per
/// chunk gives the ids of BPE over the whole text (what HF tokenizers does: Gemma's tokenizer.json has no
/// pre-tokenizer), while keeping merging linear in the text length (whole-text BPE is quadratic: 13 s for
/// 256K characters) and letting equal chunks share one BPE run.
/// </summary>
internal sealed class GemmaPreTokenizer : PreTokenizer
{
    public const char Space = '▁';

    private readonly bool[] _isolated = new bool[char.MaxValue + 1];

    /// <param name="merges">The BPE merges ("left right"): characters found in none of them are isolated.</param>
    public GemmaPreTokenizer(IEnumerable<string> merges)
    {
        Array.Fill(_isolated, true);
        foreach (string merge in merges)
            foreach (char c in merge) _isolated[c] = false;
        // Never cut a surrogate pair, a newline or a space: they have their own rules above.
        for (int c = 0xD800; c <= 0xDFFF; c++) _isolated[c] = false;
        _isolated['\n'] = _isolated[' '] = _isolated[Space] = false;
    }

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

    private IEnumerable<(int Offset, int Length)> Chunks(ReadOnlyMemory<char> text)
    {
        for (int start = 0, end; start < text.Length; start = end)
        {
            end = NextCut(text.Span, start);
            yield return (start, end - start);
        }
    }

    /// <summary>The end of the chunk that starts at <paramref name="start"/> (raw or normalized text alike).</summary>
    public int NextCut(ReadOnlySpan<char> text, int start)
    {
        int i = start;
        if (text[i] == '\n')
        {
            while (i < text.Length && text[i] == '\n') i++;
            return i;
        }
        if (_isolated[text[i]]) return i + 1;
        while (i < text.Length && IsSpace(text[i])) i++;                                          // ▁*
        while (i < text.Length && !IsSpace(text[i]) && text[i] != '\n' && !_isolated[text[i]]) i++;   // [^▁\nc]+ (empty: ▁+)
        return i;
    }

    private static bool IsSpace(char c) => c == Space || c == ' ';
}
