using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Keys and values of the tokens seen so far, per layer, so each decoding step runs only the new token.
/// Sliding-window layers keep only the last <c>window</c> positions: older keys are masked anyway.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;
    private readonly long[] _dropped;   // positions trimmed off the front of each layer's cache

    public KvCache(int layers)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _dropped = new long[layers];
    }

    /// <summary>Tokens seen so far (the index the next token gets).</summary>
    public long Length { get; private set; }

    /// <summary>Appends (B, KV, T, D) keys/values of one layer; returns the layer's cached keys, values and the
    /// sequence index of the first cached position.</summary>
    public (Tensor Keys, Tensor Values, long First) Append(int layer, Tensor k, Tensor v, int? window)
    {
        var keys = _keys[layer] is { } pk ? cat([pk, k], 2) : k.alias();
        var values = _values[layer] is { } pv ? cat([pv, v], 2) : v.alias();
        if (window is int w && keys.shape[2] > w + k.shape[2])
        {
            long drop = keys.shape[2] - (w + k.shape[2]);   // keep what the new queries can still see
            keys = keys[.., .., (int)drop..];
            values = values[.., .., (int)drop..];
            _dropped[layer] += drop;
        }
        Replace(ref _keys[layer], keys);
        Replace(ref _values[layer], values);
        return (keys, values, _dropped[layer]);
    }

    /// <summary>Called once per forward, after every layer appended its new tokens.</summary>
    public void Advance(long tokens) => Length += tokens;

    private static void Replace(ref Tensor? slot, Tensor value)
    {
        var kept = value.detach().DetachFromDisposeScope();   // lives until replaced or the cache is disposed
        slot?.Dispose();
        slot = kept;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
    }
}
