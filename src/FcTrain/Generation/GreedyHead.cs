using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Generation;

/// <summary>
/// Greedy decoding's head on the CPU, for a float32 head: the product x·Wᵀ fused with the choice, so the (B, V)
/// logits are never written. The vocabulary is cut into panels of 32 rows stored input-major (k, 32); each panel is
/// read from memory once a step and multiplied with every row's input while it sits in L1, and each row keeps only its
/// best logit, that logit's id and the runner-up. At one row this streams the head at memory bandwidth; at 64 rows it
/// is a register-blocked product (8 rows × 32 ids of accumulators) instead of writing and rereading 65 MB of logits.
///
/// The head's LoRA update rides in the same product: x = [h, s·(h Aᵀ)] against [W, B], so the panels hold
/// K = hidden + rank inputs per id. The soft-cap (cap · tanh(z / cap)) is monotonic, so the choice is the argmax of the
/// uncapped logits and only the two compared values are capped for the margin. Each logit is summed over k in one
/// fixed order whatever the batch, so a row's choice does not depend on which rows share its batch. The panels are a
/// copy of the weights as they were when it was built (131 MB for tiny): build it once per model and keep it while the
/// weights do not change.
/// </summary>
public sealed unsafe class GreedyHead : IDisposable
{
    private const int Width = 32;                        // ids per panel: two Vector512<float>

    private readonly Tensor[] blocks;                    // (P', K, 32) float32 each: panel p, input k, id 32p + j of [W, B]
    private readonly nint[] blockData;                   // their data (native memory, which does not move)
    private readonly int panelsPerBlock, panelCount;
    private readonly Tensor? loraA;                      // (r, C) float32, the head's adapter input projection
    private readonly float scaling;
    private readonly double? cap;
    private readonly int vocab, inputs;

    /// <param name="weight">The head's (V, C) weight.</param>
    /// <param name="loraA">The head's adapter (r, C), or null; <paramref name="loraB"/> (V, r) comes with it.</param>
    /// <param name="cap">The final logit soft-cap, or null.</param>
    public GreedyHead(Tensor weight, Tensor? loraA, Tensor? loraB, double scaling, double? cap)
    {
        vocab = (int)weight.shape[0];
        inputs = (int)(weight.shape[1] + (loraB?.shape[1] ?? 0));
        panelCount = (vocab + Width - 1) / Width;
        panelsPerBlock = Math.Max(1, int.MaxValue / (inputs * Width * sizeof(float)));   // a block's bytes fit a Span
        blocks = new Tensor[(panelCount + panelsPerBlock - 1) / panelsPerBlock];
        blockData = new nint[blocks.Length];
        for (int b = 0; b < blocks.Length; b++)
        {
            using var scope = NewDisposeScope();
            int first = b * panelsPerBlock * Width, count = Math.Min(panelsPerBlock, panelCount - b * panelsPerBlock);
            int ids = Math.Min(count * Width, vocab - first);
            var rows = weight.narrow(0, first, ids).to(ScalarType.Float32);
            if (loraB is not null) rows = cat([rows, loraB.narrow(0, first, ids).to(ScalarType.Float32)], 1);                // (n, K)
            if (ids < count * Width) rows = nn.functional.pad(rows, [0, 0, 0, count * Width - ids]);                       // (P'·32, K)
            blocks[b] = rows.view(count, Width, inputs).transpose(1, 2).contiguous().MoveToOuterDisposeScope();              // (P', K, 32)
            blockData[b] = DataOf(blocks[b]);
        }
        this.loraA = loraA?.to(ScalarType.Float32).contiguous().MoveToOuterDisposeScope();
        this.scaling = (float)scaling;
        this.cap = cap;
    }

    /// <summary>The fused head of <paramref name="model"/>, or null where the tensor path is the better one: off the CPU,
    /// for a head that is not float32, or without AVX-512 (the kernel's two 16-float vectors would run emulated).</summary>
    public static GreedyHead? For(Gemma2ForCausalLM model)
    {
        var head = model.LmHead;
        if (model.Device.type != TorchSharp.DeviceType.CPU || head.Weight.dtype != ScalarType.Float32 || !Vector512.IsHardwareAccelerated) return null;
        return new GreedyHead(head.Weight, head.LoraA?.weight, head.LoraB?.weight, head.Scaling, model.Config.FinalLogitSoftcapping);
    }

    /// <summary>Each row's greedy choice for hidden states (B, C), and the gap between its capped logit and the runner-up's.</summary>
    public (int[] Chosen, float[] Margin) Choose(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = hidden.to(ScalarType.Float32);
        if (loraA is not null) x = cat([x, nn.functional.linear(x, loraA).mul_(scaling)], 1);                               // (B, K)
        x = x.contiguous();
        int batch = (int)x.shape[0];

        int threads = Math.Max(1, get_num_threads()), chunks = threads * 4;
        var results = new Top2[chunks, batch];
        nint input = DataOf(x);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            var top = new Top2[batch];
            Array.Fill(top, Top2.Empty);
            Scan((float*)input, batch, panelCount * chunk / chunks, panelCount * (chunk + 1) / chunks, top);
            for (int r = 0; r < batch; r++) results[chunk, r] = top[r];
        });

        var chosen = new int[batch];
        var margin = new float[batch];
        for (int r = 0; r < batch; r++)
        {
            var top = Top2.Empty;
            for (int c = 0; c < chunks; c++) top = top.Merge(results[c, r]);   // in vocabulary order: ties keep the lowest id
            chosen[r] = top.Id;
            margin[r] = Gemma2ForCausalLM.SoftCap(top.Best, cap) - Gemma2ForCausalLM.SoftCap(top.Second, cap);
        }
        return (chosen, margin);
    }

    private static nint DataOf(Tensor t) => (nint)Unsafe.AsPointer(ref MemoryMarshal.GetReference(t.bytes));

    /// <summary>Panels [from, to) against every row: 8 rows at a time, then 4, then one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private void Scan(float* x, int batch, int from, int to, Top2[] top)
    {
        int k = inputs;
        float* logits = stackalloc float[8 * Width];
        for (int p = from; p < to; p++)
        {
            float* panel = (float*)blockData[p / panelsPerBlock] + (long)(p % panelsPerBlock) * k * Width;
            int id0 = p * Width, valid = Math.Min(Width, vocab - id0), r = 0;
            for (; r + 8 <= batch; r += 8)
            {
                Panel<Rows8>(x + (long)r * k, k, panel, logits);
                for (int i = 0; i < 8; i++) top[r + i].Add(logits + i * Width, id0, valid);
            }
            for (; r + 4 <= batch; r += 4)
            {
                Panel<Rows4>(x + (long)r * k, k, panel, logits);
                for (int i = 0; i < 4; i++) top[r + i].Add(logits + i * Width, id0, valid);
            }
            for (; r < batch; r++)
            {
                Panel<Rows1>(x + (long)r * k, k, panel, logits);
                top[r].Add(logits, id0, valid);
            }
        }
    }

    // The micro-kernel: R rows × 32 ids of accumulators in registers, k inputs deep, one broadcast per row and input.
    // R is a type so that the JIT compiles one kernel per height with the unused rows' code removed.

    private interface IRows { static abstract int Count { get; } }
    private struct Rows8 : IRows { public static int Count => 8; }
    private struct Rows4 : IRows { public static int Count => 4; }
    private struct Rows1 : IRows { public static int Count => 1; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private static void Panel<R>(float* x, int k, float* w, float* o) where R : struct, IRows
    {
        Vector512<float> a0 = default, a1 = default, b0 = default, b1 = default, c0 = default, c1 = default, d0 = default, d1 = default;
        Vector512<float> e0 = default, e1 = default, f0 = default, f1 = default, g0 = default, g1 = default, h0 = default, h1 = default;
        for (int i = 0; i < k; i++, w += Width)
        {
            var w0 = Vector512.Load(w);
            var w1 = Vector512.Load(w + 16);
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

    /// <summary>A row's best logit so far, its id, and the best of the others.</summary>
    [StructLayout(LayoutKind.Auto)]
    private struct Top2
    {
        public float Best, Second;
        public int Id;

        public static Top2 Empty => new() { Best = float.NegativeInfinity, Second = float.NegativeInfinity };

        /// <summary>Takes in a panel's logits for ids id0 … id0 + valid − 1; most panels hold nothing above the runner-up.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
        public void Add(float* logits, int id0, int valid)
        {
            var second = Vector512.Create(Second);
            if (!Vector512.GreaterThanAny(Vector512.Load(logits), second) && !Vector512.GreaterThanAny(Vector512.Load(logits + 16), second)) return;
            for (int j = 0; j < valid; j++)
            {
                float z = logits[j];
                if (z > Best) { Second = Best; Best = z; Id = id0 + j; }
                else if (z > Second) Second = z;
            }
        }

        /// <summary>This (earlier ids) followed by <paramref name="later"/>.</summary>
        public readonly Top2 Merge(Top2 later) => later.Best > Best
            ? new() { Best = later.Best, Id = later.Id, Second = Math.Max(Best, later.Second) }
            : new() { Best = Best, Id = Id, Second = Math.Max(Second, later.Best) };
    }

    public void Dispose()
    {
        foreach (var block in blocks) block.Dispose();
        loraA?.Dispose();
    }
}
