using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using FcTrain.Data;

namespace FcTrain.Validation;

/// <summary>The deterministic train/eval split of a dataset.</summary>
internal static class DatasetSplit
{
    /// <summary>
    /// Eval when the id is listed, or, for a fraction, when SHA-256(seed + id) read as a number in [0, 1)
    /// falls below it: stable across runs, machines and the order of files, and adding a conversation never moves another.
    /// </summary>
    public static Split Of(string id, SplitRule rule)
    {
        if (rule.EvalIds is { } ids) return ids.Contains(id, StringComparer.Ordinal) ? Split.Eval : Split.Train;
        if (rule.EvalFraction is not { } fraction) return Split.Train;
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(rule.Seed + id), hash);
        double unit = (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) * (1.0 / (1UL << 53));
        return unit < fraction ? Split.Eval : Split.Train;
    }
}
