using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Packing;

/// <summary>
/// Packs tokenized conversations into rows of at most <c>maxSeqLength</c> tokens, first-fit decreasing (longest
/// first, each into the first row with room; ties keep input order, so the result is deterministic). Whole
/// conversations only: a row never splits one. Position ids restart at 0 per conversation and each token
/// carries its conversation's document id (0, 1, … within the row), so attention can be block-diagonal.
/// </summary>
public static class Packer
{
    /// <summary>
    /// Packs <paramref name="conversations"/>. A conversation longer than <paramref name="maxSeqLength"/> is an
    /// error FCT0130 added to <paramref name="diagnostics"/> (every one is reported), or with
    /// <paramref name="truncate"/> it is cut to the limit.
    /// </summary>
    public static List<PackedRow> Pack(IReadOnlyList<TokenizedConversation> conversations, int maxSeqLength, bool truncate, List<Diagnostic> diagnostics)
    {
        var fitting = new List<TokenizedConversation>(conversations.Count);
        foreach (var c in conversations)
        {
            if (c.Length <= maxSeqLength) { fitting.Add(c); continue; }
            if (truncate) { fitting.Add(c.Truncated(maxSeqLength)); continue; }
            var at = c.Source ?? new SourceSpan("fctrain");
            diagnostics.Add(new Diagnostic(at.File, at.Line, at.Column, Severity.Error, "FCT0130",
                $"conversation '{c.Id}' is {c.Length} tokens long, more than max_seq_length {maxSeqLength}; it would be cut. Shorten or split the conversation, raise max_seq_length, or pass --truncate to cut it on purpose."));
        }

        var order = Enumerable.Range(0, fitting.Count).OrderByDescending(i => fitting[i].Length).ThenBy(i => i).ToList();
        var bins = new List<List<TokenizedConversation>>();
        var lengths = new List<int>();
        foreach (int i in order)
        {
            var c = fitting[i];
            int bin = lengths.FindIndex(length => length + c.Length <= maxSeqLength);
            if (bin < 0) { bins.Add([c]); lengths.Add(c.Length); }
            else { bins[bin].Add(c); lengths[bin] += c.Length; }
        }
        return bins.Select((members, b) => Row(members, lengths[b])).ToList();
    }

    private static PackedRow Row(List<TokenizedConversation> members, int length)
    {
        var ids = new int[length];
        var labels = new int[length];
        var positions = new int[length];
        var documents = new int[length];
        int at = 0;
        for (int d = 0; d < members.Count; d++)
        {
            var c = members[d];
            c.InputIds.CopyTo(ids, at);
            c.Labels.CopyTo(labels, at);
            for (int t = 0; t < c.Length; t++) { positions[at + t] = t; documents[at + t] = d; }
            at += c.Length;
        }
        return new PackedRow(ids, labels, positions, documents);
    }
}
