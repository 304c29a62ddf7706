using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Which keys each query may attend to, as a boolean (B or 1, 1, Tq, Tk) mask:
/// causal (key index ≤ query index), within the same document (packed rows are block-diagonal, so packed
/// conversations never see each other) and, on sliding-window layers, fewer than <c>window</c> tokens back
/// (transformers: key > query − window).
/// </summary>
public static class AttentionMask
{
    /// <param name="queryIndex">Sequence index of each query, (Tq) for every row alike or (B, Tq) per row (a batch
    /// decoding from a KV cache, each row at its own position).</param>
    /// <param name="keyIndex">Sequence index of each key, (Tk).</param>
    /// <param name="documentIds">Document id of every token of the row, (B, Tk), or null for one document.</param>
    public static Tensor Build(Tensor queryIndex, Tensor keyIndex, Tensor? documentIds, int? window)
    {
        var q = (queryIndex.dim() == 1 ? queryIndex.unsqueeze(0) : queryIndex).unsqueeze(-1);   // (B|1, Tq, 1)
        var k = keyIndex.view(1, 1, -1);                                                        // (1, 1, Tk)
        var allowed = k <= q;                                                                   // (B|1, Tq, Tk)
        if (window is int w)
        {
            using var back = w.ToScalar();
            allowed = allowed & (q - k < back);
        }
        if (documentIds is not null)
        {
            long tq = queryIndex.shape[^1], tk = keyIndex.shape[0];
            var docQ = documentIds[.., (int)(tk - tq)..];   // the queries are the last Tq tokens
            allowed = allowed & (docQ.unsqueeze(2) == documentIds.unsqueeze(1));   // (B, Tq, Tk)
        }
        return allowed.unsqueeze(1);                        // (B|1, 1, Tq, Tk)
    }
}
