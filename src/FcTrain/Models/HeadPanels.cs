using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// The LM head as the CPU's fused head kernels read it (greedy decoding's <see cref="Generation.GreedyHead"/>, training's
/// <see cref="Training.HeadCrossEntropy"/>): the rows of [W | B] (W the (V, C) head, B its LoRA factor (V, r)) cut into
/// panels of 32 ids and stored input-major, (K, 32) with K = C + r, so that one panel is a contiguous 18 kB (tiny) read
/// that sits in L1 while every row's input is multiplied with it. Products go through one register-blocked micro-kernel,
/// <see cref="Product"/>. The panels are a copy of the weights (131 MB for tiny in float32): W as it was when they were
/// built, B until <see cref="SetLoraB"/> writes it again. Greedy decoding keeps them in bfloat16 instead (half the bytes to
/// read), only to find the few ids whose exact float32 logits it then computes (<see cref="Generation.GreedyHead"/>).
/// </summary>
public sealed unsafe class HeadPanels : IDisposable
{
    /// <summary>Ids per panel: two <see cref="Vector512{T}"/> of float.</summary>
    public const int Width = 32;

    private readonly Tensor[] blocks;                    // (P', K, 32) float32 or bfloat16 each: panel p, input k, id 32p + j of [W, B]
    private readonly nint[] blockData;                   // their data (native memory, which does not move)
    private readonly int panelsPerBlock;

    public int Vocab { get; }
    public int Hidden { get; }
    /// <summary>The LoRA rank r (0 without an adapter).</summary>
    public int Rank { get; }
    /// <summary>K = C + r: the inputs of one id.</summary>
    public int Inputs => Hidden + Rank;
    public int Count { get; }
    /// <summary>Float32, or BFloat16 (rounded to nearest even).</summary>
    public ScalarType Storage { get; }
    /// <summary>Bfloat16 panels: per input k, the largest |w − bf16(w)| over the vocabulary (NaN where a weight is not finite).</summary>
    public double[]? RoundingError { get; }
    /// <summary>Bfloat16 panels: per input k, the largest |w| over the vocabulary.</summary>
    public double[]? Magnitude { get; }

    /// <param name="weight">The head's (V, C) weight.</param>
    /// <param name="loraB">The head's LoRA factor B (V, r), or null.</param>
    /// <param name="storage">Float32 or BFloat16.</param>
    public HeadPanels(Tensor weight, Tensor? loraB, ScalarType storage = ScalarType.Float32)
    {
        if (storage is not (ScalarType.Float32 or ScalarType.BFloat16)) throw new ArgumentException($"panels store float32 or bfloat16, not {storage}", nameof(storage));
        Storage = storage;
        Vocab = (int)weight.shape[0];
        Hidden = (int)weight.shape[1];
        Rank = (int)(loraB?.shape[1] ?? 0);
        Count = (Vocab + Width - 1) / Width;
        panelsPerBlock = Math.Max(1, int.MaxValue / (Inputs * Width * sizeof(float)));   // a block's bytes fit a Span, in either storage
        blocks = new Tensor[(Count + panelsPerBlock - 1) / panelsPerBlock];
        blockData = new nint[blocks.Length];
        using var noGrad = no_grad();
        if (storage == ScalarType.BFloat16)
        {
            using var w = weight.to(ScalarType.Float32).contiguous();
            using var b = loraB?.to(ScalarType.Float32).contiguous();
            (RoundingError, Magnitude) = FillBFloat16(w, b);
            return;
        }
        for (int b = 0; b < blocks.Length; b++)
        {
            using var scope = NewDisposeScope();
            var rows = Rows(weight, b);
            if (loraB is not null) rows = cat([rows, Rows(loraB, b)], 1);                                        // (P'·32, K)
            blocks[b] = rows.view(-1, Width, Inputs).transpose(1, 2).contiguous().DetachFromDisposeScope();   // (P', K, 32), owned here
            blockData[b] = (nint)Address(blocks[b]);
        }
    }

    /// <summary>
    /// Writes the bfloat16 panels straight from W (V, C) and B (V, r), rounded to nearest (ties to even), without a float32
    /// copy of the head in between (libtorch's transpose and conversion took 15 s for gemma-2-2b's head, most of it in
    /// page faults). Returns, per input k, the largest rounding error and the largest magnitude over the vocabulary; the
    /// errors are NaN when a weight is not finite.
    /// </summary>
    private (double[] Error, double[] Magnitude) FillBFloat16(Tensor weight, Tensor? loraB)
    {
        float* w = Data(weight), lora = loraB is null ? null : Data(loraB);
        for (int b = 0; b < blocks.Length; b++)
        {
            blocks[b] = empty([Math.Min(panelsPerBlock, Count - b * panelsPerBlock), Inputs, Width], ScalarType.BFloat16).DetachFromDisposeScope();   // owned here
            blockData[b] = (nint)Address(blocks[b]);
        }
        var error = new float[Inputs];
        var magnitude = new float[Inputs];
        bool finite = true;
        int threads = Math.Max(1, get_num_threads()), chunks = threads * 4;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            var chunkError = new float[Inputs];
            var chunkMagnitude = new float[Inputs];
            bool chunkFinite = FillPanels(w, lora, Count * chunk / chunks, Count * (chunk + 1) / chunks, chunkError, chunkMagnitude);
            lock (error)
            {
                for (int k = 0; k < Inputs; k++)
                {
                    error[k] = Math.Max(error[k], chunkError[k]);
                    magnitude[k] = Math.Max(magnitude[k], chunkMagnitude[k]);
                }
                finite &= chunkFinite;
            }
        });
        return ([.. error.Select(e => finite ? e : double.NaN)], [.. magnitude.Select(m => (double)m)]);
    }

    /// <summary>Panels [from, to) in bfloat16, folding each input's largest rounding error and magnitude into the arrays;
    /// whether every weight was finite.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // one long loop: no tier-0 code
    private bool FillPanels(float* w, float* lora, int from, int to, float[] error, float[] magnitude)
    {
        bool finite = true;
        for (int p = from; p < to; p++)
        {
            ushort* panel = (ushort*)PanelBytes(p);
            for (int j = 0; j < Width; j++)
            {
                int id = p * Width + j;
                for (int k = 0; k < Inputs; k++)
                {
                    float value = id >= Vocab ? 0 : k < Hidden ? w[(long)id * Hidden + k] : lora[(long)id * Rank + k - Hidden];
                    uint bits = BitConverter.SingleToUInt32Bits(value);
                    uint top = (bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16;                                          // round to nearest even
                    panel[k * Width + j] = (ushort)top;
                    error[k] = Math.Max(error[k], Math.Abs(value - BitConverter.UInt32BitsToSingle(top << 16)));
                    magnitude[k] = Math.Max(magnitude[k], Math.Abs(value));
                    finite &= float.IsFinite(value);
                }
            }
        }
        return finite;
    }

    /// <summary>Whether the kernels apply to <paramref name="weight"/>: a float32 head in CPU memory, on a CPU with AVX-512
    /// (without it the kernel's 16-float vectors would run emulated, slower than libtorch's own products).</summary>
    public static bool Supported(Tensor weight) =>
        weight.device.type == TorchSharp.DeviceType.CPU && weight.dtype == ScalarType.Float32 && Vector512.IsHardwareAccelerated;

    /// <summary>The data of a contiguous float32 CPU tensor, for the kernels: native memory, which does not move. Read
    /// through a view of its first element, as TorchSharp spans only up to 2 GB (gemma-2-2b's head is 2.4 GB in float32).</summary>
    public static float* Data(Tensor t) => (float*)Address(t);

    private static void* Address(Tensor t)
    {
        if (!t.is_contiguous()) throw new ArgumentException("the kernels read contiguous tensors only", nameof(t));
        using var first = t.view(-1).narrow(0, 0, 1);
        return Unsafe.AsPointer(ref MemoryMarshal.GetReference(first.bytes));
    }

    /// <summary>Panel <paramref name="p"/> of float32 panels: (K, 32) floats, input-major.</summary>
    public float* Panel(int p) => Storage == ScalarType.Float32 ? (float*)PanelBytes(p) : throw new InvalidOperationException("these panels are bfloat16");

    /// <summary>Panel <paramref name="p"/> of bfloat16 panels: (K, 32) bfloat16 bit patterns, input-major.</summary>
    public ushort* PanelBFloat16(int p) => Storage == ScalarType.BFloat16 ? (ushort*)PanelBytes(p) : throw new InvalidOperationException("these panels are float32");

    private byte* PanelBytes(int p) => (byte*)blockData[p / panelsPerBlock] + (long)(p % panelsPerBlock) * Inputs * Width * (Storage == ScalarType.Float32 ? 4 : 2);

    /// <summary>Writes the adapter's B (V, r) into the panels again (it changes at every optimizer step; W does not).</summary>
    public void SetLoraB(Tensor loraB)
    {
        if (Storage != ScalarType.Float32) throw new InvalidOperationException("training writes float32 panels only");
        if (loraB.shape[0] != Vocab || loraB.shape[1] != Rank) throw new ArgumentException($"LoRA B of shape ({string.Join(", ", loraB.shape)}), panels of ({Vocab}, {Rank})");
        using var noGrad = no_grad();
        for (int b = 0; b < blocks.Length; b++)
        {
            using var scope = NewDisposeScope();
            blocks[b].narrow(1, Hidden, Rank).copy_(Rows(loraB, b).view(-1, Width, Rank).transpose(1, 2));
        }
    }

    /// <summary>Block <paramref name="b"/>'s rows of <paramref name="matrix"/> (V, ·) in float32, zero rows past the vocabulary.</summary>
    private Tensor Rows(Tensor matrix, int b)
    {
        int first = b * panelsPerBlock * Width, count = Math.Min(panelsPerBlock, Count - b * panelsPerBlock);
        int ids = Math.Min(count * Width, Vocab - first);
        var rows = matrix.narrow(0, first, ids).to(ScalarType.Float32);
        return ids < count * Width ? nn.functional.pad(rows, [0, 0, 0, count * Width - ids]) : rows;
    }

    /// <summary>
    /// o = x · w: <paramref name="rows"/> rows of <paramref name="k"/> inputs (row-major, stride k) times a (k, 32) panel,
    /// into (rows, 32). Each output is summed over k in one fixed order, whatever the number of rows.
    /// </summary>
    public static void Product(float* x, int rows, int k, float* w, float* o) => Product<Float32>(x, rows, k, (byte*)w, o);

    /// <summary>
    /// <see cref="Product"/> with a bfloat16 (k, 32) panel. Each 64-byte row of the panel is read as 16 pairs of ids, so each
    /// row of <paramref name="o"/> holds the even ids 0, 2, …, 30 of the panel, then the odd ids 1, 3, …, 31.
    /// </summary>
    public static void ProductBFloat16(float* x, int rows, int k, ushort* w, float* o) => Product<BFloat16Pairs>(x, rows, k, (byte*)w, o);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private static void Product<F>(float* x, int rows, int k, byte* w, float* o) where F : struct, IStorage
    {
        int r = 0;
        for (; r + 8 <= rows; r += 8) Panel<Rows8, F>(x + (long)r * k, k, w, o + r * Width);
        for (; r + 4 <= rows; r += 4) Panel<Rows4, F>(x + (long)r * k, k, w, o + r * Width);
        for (; r < rows; r++) Panel<Rows1, F>(x + (long)r * k, k, w, o + r * Width);
    }

    /// <summary>How a panel's row of 32 ids is stored, and its two vectors of 16 weights.</summary>
    private interface IStorage
    {
        static abstract int RowBytes { get; }
        static abstract (Vector512<float>, Vector512<float>) Load(byte* row);
    }

    private struct Float32 : IStorage
    {
        public static int RowBytes => Width * sizeof(float);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<float>, Vector512<float>) Load(byte* row) => (Vector512.Load((float*)row), Vector512.Load((float*)row + 16));
    }

    /// <summary>32 bfloat16 as 16 little-endian pairs: the low half of each 32-bit lane is an even id, the high half the odd
    /// id after it. A bfloat16 is the top half of a float32, so a shift and a mask make both floats exactly.</summary>
    private struct BFloat16Pairs : IStorage
    {
        public static int RowBytes => Width * sizeof(ushort);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static (Vector512<float>, Vector512<float>) Load(byte* row)
        {
            var pairs = Vector512.Load((uint*)row);
            return ((pairs << 16).AsSingle(), (pairs & Vector512.Create(0xFFFF0000u)).AsSingle());
        }
    }

    // The micro-kernel: R rows × 32 ids of accumulators in registers, k inputs deep, one broadcast per row and input.
    // R is a type so that the JIT compiles one kernel per height with the unused rows' code removed.

    private interface IRows { static abstract int Count { get; } }
    private struct Rows8 : IRows { public static int Count => 8; }
    private struct Rows4 : IRows { public static int Count => 4; }
    private struct Rows1 : IRows { public static int Count => 1; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private static void Panel<R, F>(float* x, int k, byte* w, float* o) where R : struct, IRows where F : struct, IStorage
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        Vector512<float> e0 = default, e1 = default, f0 = default, f1 = default, g0 = default, g1 = default, h0 = default, h1 = default;
        for (int i = 0; i < k; i++, w += F.RowBytes)
        {
            var (w0, w1) = F.Load(w);
            var v = Vector512.Create(x[i]); a0 = Vector512.FusedMultiplyAdd(w0, v, a0); a1 = Vector512.FusedMultiplyAdd(w1, v, a1);
            if (R.Count == 1) continue;
            v = Vector512.Create(x[k + i]); b0 = Vector512.FusedMultiplyAdd(w0, v, b0); b1 = Vector512.FusedMultiplyAdd(w1, v, b1);
            v = Vector512.Create(x[2 * k + i]); c0 = Vector512.FusedMultiplyAdd(w0, v, c0); c1 = Vector512.FusedMultiplyAdd(w1, v, c1);
            v = Vector512.Create(x[3 * k + i]); d0 = Vector512.FusedMultiplyAdd(w0, v, d0); d1 = Vector512.FusedMultiplyAdd(w1, v, d1);
            if (R.Count == 4) continue;
            v = Vector512.Create(x[4 * k + i]); e0 = Vector512.FusedMultiplyAdd(w0, v, e0); e1 = Vector512.FusedMultiplyAdd(w1, v, e1);
            v = Vector512.Create(x[5 * k + i]); f0 = Vector512.FusedMultiplyAdd(w0, v, f0); f1 = Vector512.FusedMultiplyAdd(w1, v, f1);
            v = Vector512.Create(x[6 * k + i]); g0 = Vector512.FusedMultiplyAdd(w0, v, g0); g1 = Vector512.FusedMultiplyAdd(w1, v, g1);
            v = Vector512.Create(x[7 * k + i]); h0 = Vector512.FusedMultiplyAdd(w0, v, h0); h1 = Vector512.FusedMultiplyAdd(w1, v, h1);
        }
        a0.Store(o); a1.Store(o + 16);
        if (R.Count == 1) return;
        b0.Store(o + 32); b1.Store(o + 48); c0.Store(o + 64); c1.Store(o + 80); d0.Store(o + 96); d1.Store(o + 112);
        if (R.Count == 4) return;
        e0.Store(o + 128); e1.Store(o + 144); f0.Store(o + 160); f1.Store(o + 176); g0.Store(o + 192); g1.Store(o + 208); h0.Store(o + 224); h1.Store(o + 240);
    }

    public void Dispose()
    {
        foreach (var block in blocks) block.Dispose();
    }
}
