using static TorchSharp.torch;

namespace FcTrain.Models.Gemma2;

/// <summary>
/// Keys and values of the tokens seen so far, per layer, so each decoding step runs only the new tokens.
/// Each layer's buffers are allocated once, (B, KV, capacity, D), on the first write, and written in place: a
/// token's key goes to the slot of its position, so rows of a batch can be at different positions (right-padded
/// prompts) and nothing is copied as the sequence grows. Slots past a row's position hold stale or padding
/// keys; the causal mask (key ≤ query position) never lets a query see them, and sliding-window layers mask
/// keys older than the window instead of trimming them. A forward may cover only some rows (<see cref="StartAtRow"/>):
/// a prefill that runs the prompts one at a time.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly Tensor?[] _keys, _values;
    private readonly long _capacity;
    private long _rows, _firstRow;

    /// <param name="capacity">Positions per row: the longest prompt plus the tokens to generate.</param>
    /// <param name="rows">Rows of the batch.</param>
    public KvCache(int layers, long capacity, long rows)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _capacity = capacity;
        _rows = rows;
    }

    public long Capacity => _capacity;

    private Tensor? _positions;   // (B, T) positions of the forward in progress
    private long _length;

    /// <summary>
    /// Starts a forward of tokens at <paramref name="positions"/> (B, T), which must be below <see cref="Capacity"/>;
    /// returns how many slots their queries can see: the largest position + 1.
    /// </summary>
    public long Begin(Tensor positions)
    {
        _positions = positions;
        _length = positions.max().item<long>() + 1;
        if (_length > _capacity) throw new ArgumentOutOfRangeException(nameof(positions), $"position {_length - 1} is past the cache's capacity of {_capacity}");
        return _length;
    }

    /// <summary>The forwards that follow cover rows <paramref name="first"/> … first + B − 1 (B: their batch size); 0 for all.</summary>
    public void StartAtRow(long first) => _firstRow = first;

    /// <summary>
    /// Writes the (B, KV, T, D) keys/values of one layer at the positions of the forward in progress and returns the
    /// layer's first slots, (B, KV, S, D) with S from <see cref="Begin"/>: views of the buffers, not copies.
    /// </summary>
    public (Tensor Keys, Tensor Values) Write(int layer, Tensor k, Tensor v)
    {
        if (_positions is null) throw new InvalidOperationException("KvCache.Begin must start the forward");
        long b = k.shape[0], kvHeads = k.shape[1], t = k.shape[2], d = k.shape[3];
        var slots = _positions.view(b, 1, t, 1).expand(b, kvHeads, t, d);   // (B, KV, T, D)
        if (_firstRow + b > _rows) throw new ArgumentOutOfRangeException(nameof(k), $"rows {_firstRow}…{_firstRow + b - 1} are past the cache's {_rows} rows");
        var keys = Buffer(ref _keys[layer], k).narrow(0, _firstRow, b).scatter_(2, slots, k);
        var values = Buffer(ref _values[layer], v).narrow(0, _firstRow, b).scatter_(2, slots, v);
        return (keys.narrow(2, 0, _length), values.narrow(2, 0, _length));
    }

    /// <summary>Layer <paramref name="layer"/>'s buffers, (B, KV, capacity, D), once a forward has written them: for a decoding
    /// step that writes and reads them itself (<see cref="Generation.DecodeStep"/>).</summary>
    public (Tensor Keys, Tensor Values) Layer(int layer) =>
        (_keys[layer] ?? throw new InvalidOperationException($"layer {layer} of the cache has not been written: prefill first"), _values[layer]!);

    /// <summary>Keeps only the given rows (B') of every layer, in that order: finished rows leave the batch.</summary>
    public void KeepRows(Tensor rows)
    {
        _rows = rows.shape[0];
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is null) continue;
            Replace(ref _keys[layer], _keys[layer]!.index_select(0, rows));
            Replace(ref _values[layer], _values[layer]!.index_select(0, rows));
        }
    }

    private Tensor Buffer(ref Tensor? slot, Tensor like)
    {
        if (slot is null)
        {
            // Zeros, not empty: a masked slot is multiplied by a zero probability, and 0 · NaN would be NaN.
            slot = zeros([_rows, like.shape[1], _capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();
        }
        return slot;
    }

    private static void Replace(ref Tensor? slot, Tensor value)
    {
        var kept = value.DetachFromDisposeScope();   // lives until replaced or the cache is disposed
        slot?.Dispose();
        slot = kept;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
    }
}
