using System.Text;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Packing;

/// <summary>
/// One conversation as ids with labels: <c>Labels[i] = InputIds[i]</c> where trained, -100 elsewhere
/// (unshifted, as transformers expects: the model shifts).
/// </summary>
public sealed record TokenizedConversation(string Id, int[] InputIds, int[] Labels, Data.SourceSpan? Source = null)
{
    public const int IgnoreIndex = -100;

    public int Length => InputIds.Length;
    public int TrainedTokens => Labels.Count(l => l != IgnoreIndex);

    /// <summary>The first <paramref name="length"/> tokens (<c>--truncate</c>).</summary>
    public TokenizedConversation Truncated(int length) => this with { InputIds = InputIds[..length], Labels = Labels[..length] };

    /// <summary>
    /// Ids and labels of rendered <paramref name="segments"/>. Each run of text between structural tokens is
    /// encoded as one string (as HF encodes the rendered text between special tokens), special parsing off; a
    /// token of that run is trained when any character of the chunk it comes from is trained.
    /// </summary>
    public static TokenizedConversation From(string id, IReadOnlyList<Segment> segments, GemmaTokenizer tokenizer, Data.SourceSpan? source = null)
    {
        var ids = new List<int>(256);
        var labels = new List<int>(256);
        var run = new StringBuilder();
        var trainedChars = new List<bool>();
        var spans = new List<(int Start, int End)>();

        void Flush()
        {
            if (run.Length == 0) return;
            int first = ids.Count;
            spans.Clear();
            tokenizer.Encode(run.ToString(), ids, spans);
            for (int t = first; t < ids.Count; t++)
            {
                var (start, end) = spans[t - first];
                bool trained = false;
                for (int c = start; c < end && !trained; c++) trained = trainedChars[c];
                labels.Add(trained ? ids[t] : IgnoreIndex);
            }
            run.Clear();
            trainedChars.Clear();
        }

        foreach (var segment in segments)
        {
            if (!segment.IsToken)
            {
                run.Append(segment.Text);
                for (int c = 0; c < segment.Text.Length; c++) trainedChars.Add(segment.Trained);
                continue;
            }
            Flush();
            int token = tokenizer.TokenId(segment.Text);
            ids.Add(token);
            labels.Add(segment.Trained ? token : IgnoreIndex);
        }
        Flush();
        return new TokenizedConversation(id, [.. ids], [.. labels], source);
    }
}
