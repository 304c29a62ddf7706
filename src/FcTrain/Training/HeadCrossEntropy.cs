using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;
using static TorchSharp.torch.autograd;

namespace FcTrain.Training;

/// <summary>
/// The head's cross-entropy on the CPU without the logits: linear + final soft-cap + cross-entropy in one kernel, as
/// Liger Kernel's FusedLinearCrossEntropy and Apple's Cut Cross-Entropy do on GPUs. With tiny's 256k vocabulary and
/// hidden size 128 the head is three quarters of a training step through libtorch: every trained position's (V) logits
/// are written, soft-capped in three passes, log-softmaxed and kept for backward, and every chunk's product packs the
/// whole head again. Here the head is read from <see cref="HeadPanels"/> instead, 32 ids at a time, and no (N, V) tensor
/// exists. With x = [h, u] (N, K), u = s·A(dropout(h)) the head adapter's input, and [W | B] the head and its LoRA B:
///
///     z = x [W | B]ᵀ,   c = cap · tanh(z / cap),   loss = Σₙ logsumexp(cₙ) − cₙ[yₙ]
///     ∂loss/∂z = (softmax(c) − onehot(y)) ⊙ (1 − tanh²(z / cap))
///     ∂loss/∂x = ∂z · [W | B],   ∂loss/∂B = ∂zᵀ · u          (W is frozen)
///
/// Pass 1 reads every panel once for the log-sum-exp (online, per vector lane), the target's capped logit and the best
/// other one (accuracy and margin, as <see cref="Trainer.ScoreBatch"/> reports them). Pass 2, only when gradients are
/// wanted, reads every panel again, recomputes z and forms both gradients at once; backward then only scales them by the
/// upstream gradient (the loss is a sum, its upstream gradient a scalar). All three products are the same micro-kernel
/// (<see cref="HeadPanels.Product"/>). The vocabulary is split into a fixed number of chunks that run in parallel, and
/// the partial sums are added in chunk order, so the result does not depend on the thread count.
/// </summary>
public sealed unsafe class HeadCrossEntropy : IDisposable
{
    private const int Width = HeadPanels.Width;
    private const int Chunks = 16;

    private readonly HeadPanels panels;
    private readonly LoraLinear head;
    private readonly float cap;   // 0: no soft-cap

    public HeadCrossEntropy(LoraLinear head, double? cap)
    {
        this.head = head;
        this.cap = (float)(cap ?? 0);
        panels = new HeadPanels(head.Weight, head.LoraB?.weight);
    }

    /// <summary>The fused head of <paramref name="model"/>, or null where libtorch's products are the better path (see
    /// <see cref="HeadPanels.Supported"/>).</summary>
    public static HeadCrossEntropy? For(Gemma2ForCausalLM model) =>
        HeadPanels.Supported(model.LmHead.Weight) ? new HeadCrossEntropy(model.LmHead, model.Config.FinalLogitSoftcapping) : null;

    /// <summary>
    /// The summed cross-entropy of hidden states (N, C) against their next tokens (N), differentiable with respect to
    /// the hidden states and the head's adapter when autograd is on, and the statistics of <see cref="TokenScores"/>.
    /// </summary>
    public TokenScores Score(Tensor hidden, Tensor labels)
    {
        var x = hidden.to(ScalarType.Float32);
        var loraB = head.LoraB?.weight;
        if (head.LoraInput(x) is { } u)
        {
            panels.SetLoraB(loraB!);                     // the optimizer moved it since the last call
            x = cat([x, u], 1);                          // (N, K)
        }
        x = x.contiguous();
        bool gradients = is_grad_enabled() && (x.requires_grad || loraB is { requires_grad: true });
        var statistics = new Statistics();
        var sum = Function.apply(x, loraB, labels, this, statistics, gradients);
        return new TokenScores(sum, x.shape[0], tensor(statistics.Correct), tensor(statistics.MinMargin));
    }

    private sealed class Statistics
    {
        public long Correct;
        public float MinMargin = float.PositiveInfinity;
    }

    /// <summary>The loss as autograd sees it: both gradients are made in forward (pass 2) and saved; backward scales them.</summary>
    private sealed class Function : SingleTensorFunction<Function>
    {
        public override string Name => nameof(HeadCrossEntropy);

        public override Tensor forward(AutogradContext ctx, params object[] vars)
        {
            var (x, loraB, labels) = ((Tensor)vars[0], vars[1] as Tensor, (Tensor)vars[2]);
            var (kernel, statistics, gradients) = ((HeadCrossEntropy)vars[3], (Statistics)vars[4], (bool)vars[5]);
            var (loss, dx, dB) = kernel.Run(x, labels, statistics, gradients && loraB is { requires_grad: true }, gradients);
            if (gradients) ctx.save_for_backward(dB is null ? [dx!] : [dx!, dB]);
            return loss;
        }

        public override List<Tensor> backward(AutogradContext ctx, Tensor grad)
        {
            var saved = ctx.get_saved_variables();
            return [saved[0].mul(grad), saved.Count > 1 ? saved[1].mul(grad) : null!, null!, null!, null!, null!];
        }
    }

    /// <summary>Both passes over x (N, K): the summed loss, the statistics, and with <paramref name="gradients"/> ∂loss/∂x
    /// (N, K) and, with <paramref name="loraGradient"/>, ∂loss/∂B (V, r).</summary>
    private (Tensor Loss, Tensor? Dx, Tensor? DB) Run(Tensor x, Tensor labelTensor, Statistics statistics, bool loraGradient, bool gradients)
    {
        int n = (int)x.shape[0], k = panels.Inputs;
        var labels = labelTensor.to(ScalarType.Int64).data<long>().ToArray();
        float* input = HeadPanels.Data(x);

        // Pass 1: per row, the log-sum-exp of the capped logits, the target's capped logit and the best other one.
        var states = new NativeBuffer<Lanes>[Chunks];
        Parallel.For(0, Chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) },
            chunk => states[chunk] = Pass1Statistics(input, n, labels, First(chunk), First(chunk + 1)));
        var logSumExp = new float[n];
        double loss = 0;
        for (int r = 0; r < n; r++)
        {
            float max = float.MinValue, gold = float.NaN, rival = float.NegativeInfinity;
            for (int c = 0; c < Chunks; c++) max = Math.Max(max, Max(states[c][r].Max));
            double sum = 0;
            for (int c = 0; c < Chunks; c++)
            {
                var lanes = states[c][r];
                sum += Vector512.Sum(lanes.Sum * Exp(lanes.Max - Vector512.Create(max)));
                rival = Math.Max(rival, Max(lanes.Rival));
                if (!float.IsNaN(lanes.Gold)) gold = lanes.Gold;
            }
            logSumExp[r] = max + (float)Math.Log(sum);
            loss += logSumExp[r] - gold;
            float margin = gold - rival;
            if (margin > 0) statistics.Correct++;
            statistics.MinMargin = Math.Min(statistics.MinMargin, margin);
        }
        foreach (var state in states) state.Dispose();
        var lossTensor = tensor((float)loss);
        if (!gradients) return (lossTensor, null, null);

        // Pass 2: ∂z panel by panel, then ∂x += ∂z [W | B] (partial sums per chunk) and ∂B = ∂zᵀ u (disjoint per panel).
        int blocks = (n + Width - 1) / Width, rank = panels.Rank;
        int uRows = loraGradient ? rank : 0;
        using var uT = new NativeBuffer<float>(uRows * n);                        // (r, N): u transposed, the products' rows
        for (int j = 0; j < uRows; j++)
            for (int r = 0; r < n; r++) uT[j * n + r] = input[(long)r * k + panels.Hidden + j];
        var partial = new NativeBuffer<float>[Chunks];                            // (N/32, K, 32) each: ∂x, 32 rows a block
        using var dBPanels = loraGradient ? zeros(panels.Count, rank, Width) : null;   // (P, r, 32)
        float* dB = dBPanels is null ? null : HeadPanels.Data(dBPanels);
        float* u = uT.Data;
        Parallel.For(0, Chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, get_num_threads()) },
            chunk => partial[chunk] = Pass2Gradients(input, n, labels, logSumExp, u, dB, First(chunk), First(chunk + 1)));
        using var scope = NewDisposeScope();
        var dxBlocks = zeros(blocks, k, Width);
        float* total = HeadPanels.Data(dxBlocks);
        foreach (var part in partial)
        {
            for (long i = 0; i < part.Length; i += 16) (Vector512.Load(total + i) + Vector512.Load(part.Data + i)).Store(total + i);   // in chunk order
            part.Dispose();
        }
        var dx = dxBlocks.permute(0, 2, 1).reshape(blocks * Width, k).narrow(0, 0, n).contiguous();
        var dBTensor = dBPanels?.permute(0, 2, 1).reshape(panels.Count * Width, rank).narrow(0, 0, panels.Vocab).contiguous();
        return (lossTensor, dx.MoveToOuterDisposeScope(), dBTensor?.MoveToOuterDisposeScope());
    }

    /// <summary>The first panel of chunk <paramref name="chunk"/>.</summary>
    private int First(int chunk) => (int)((long)panels.Count * chunk / Chunks);

    /// <summary>One row's pass-1 state in one chunk, per vector lane: the running max and Σ exp(c − max) (an online
    /// softmax), the best logit other than the target's, and the target's own (NaN where the chunk does not hold it).</summary>
    private struct Lanes
    {
        public Vector512<float> Max, Sum, Rival;
        public float Gold;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private NativeBuffer<Lanes> Pass1Statistics(float* x, int n, long[] labels, int from, int to)
    {
        var lanes = new NativeBuffer<Lanes>(n);
        // With a soft-cap every logit is at most cap, so cap is a fixed shift for the exponentials and no running max is kept.
        var start = Vector512.Create(cap > 0 ? cap : float.MinValue);
        for (int r = 0; r < n; r++)
            lanes[r] = new Lanes { Max = start, Rival = Vector512.Create(float.NegativeInfinity), Gold = float.NaN };
        using var z = new NativeBuffer<float>(n * Width);
        float* logits = z.Data;
        var negativeInfinity = Vector512.Create(float.NegativeInfinity);
        for (int p = from; p < to; p++)
        {
            int id0 = p * Width;
            HeadPanels.Product(x, n, panels.Inputs, panels.Panel(p), logits);
            var (valid0, valid1) = Valid(id0);
            for (int r = 0; r < n; r++)
            {
                ref var l = ref lanes[r];
                var c0 = Vector512.ConditionalSelect(valid0, Cap(Vector512.Load(logits + r * Width), out _), negativeInfinity);
                var c1 = Vector512.ConditionalSelect(valid1, Cap(Vector512.Load(logits + r * Width + 16), out _), negativeInfinity);
                if (cap > 0) l.Sum += Exp(c0 - start) + Exp(c1 - start);
                else
                {
                    var max = Vector512.Max(l.Max, Vector512.Max(c0, c1));
                    l.Sum = l.Sum * Exp(l.Max - max) + Exp(c0 - max) + Exp(c1 - max);
                    l.Max = max;
                }
                long target = labels[r] - id0;
                if ((ulong)target < Width)
                {
                    var (is0, is1) = Lane((int)target);
                    l.Gold = Vector512.Sum(Vector512.ConditionalSelect(is0, c0, default)) + Vector512.Sum(Vector512.ConditionalSelect(is1, c1, default));
                    c0 = Vector512.ConditionalSelect(is0, negativeInfinity, c0);
                    c1 = Vector512.ConditionalSelect(is1, negativeInfinity, c1);
                }
                l.Rival = Vector512.Max(l.Rival, Vector512.Max(c0, c1));
            }
        }
        return lanes;
    }

    /// <summary>Pass 2 over panels [from, to): writes ∂B of each panel into <paramref name="dB"/> (P, r, 32) and returns
    /// this chunk's part of ∂x as (N/32, K, 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private NativeBuffer<float> Pass2Gradients(float* x, int n, long[] labels, float[] logSumExp, float* uT, float* dB, int from, int to)
    {
        int k = panels.Inputs, blocks = (n + Width - 1) / Width;
        var dx = new NativeBuffer<float>((long)blocks * k * Width);
        using var z = new NativeBuffer<float>(n * Width);                         // (N, 32): z, then ∂z
        using var zT = new NativeBuffer<float>(blocks * Width * Width);           // (N/32, 32, 32): ∂z transposed per block
        using var product = new NativeBuffer<float>(k * Width);                   // (K, 32)
        float* dz = z.Data, dzT = zT.Data, part = product.Data;
        for (int p = from; p < to; p++)
        {
            int id0 = p * Width;
            float* panel = panels.Panel(p);
            HeadPanels.Product(x, n, k, panel, dz);
            var (valid0, valid1) = Valid(id0);
            for (int r = 0; r < n; r++)
            {
                float* row = dz + r * Width;
                var lse = Vector512.Create(logSumExp[r]);
                var c0 = Cap(Vector512.Load(row), out var slope0);
                var c1 = Cap(Vector512.Load(row + 16), out var slope1);
                var g0 = Exp(c0 - lse);                                              // softmax(c)
                var g1 = Exp(c1 - lse);
                long target = labels[r] - id0;
                if ((ulong)target < Width)
                {
                    var (is0, is1) = Lane((int)target);
                    g0 -= Vector512.ConditionalSelect(is0, Vector512<float>.One, default);
                    g1 -= Vector512.ConditionalSelect(is1, Vector512<float>.One, default);
                }
                Vector512.ConditionalSelect(valid0, g0 * slope0, default).Store(row);
                Vector512.ConditionalSelect(valid1, g1 * slope1, default).Store(row + 16);
                float* column = dzT + (r / Width) * Width * Width + r % Width;
                for (int j = 0; j < Width; j++) column[j * Width] = row[j];
            }
            if (dB is not null) HeadPanels.Product(uT, panels.Rank, n, dz, dB + (long)p * panels.Rank * Width);   // (r, 32)
            for (int b = 0; b < blocks; b++)
            {
                HeadPanels.Product(panel, k, Width, dzT + b * Width * Width, part);                        // (K, 32)
                float* sum = dx.Data + (long)b * k * Width;
                for (int i = 0; i < k * Width; i += 16) (Vector512.Load(sum + i) + Vector512.Load(part + i)).Store(sum + i);
            }
        }
        return dx;
    }

    /// <summary>c = cap · tanh(z / cap) and its slope ∂c/∂z = 1 − tanh², or z and 1 without a cap.
    /// tanh(a) = 1 − 2 / (e^{2a} + 1): exact at both ends (e^{2a} = ∞ gives 1, 0 gives −1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<float> Cap(Vector512<float> z, out Vector512<float> slope)
    {
        if (cap == 0)
        {
            slope = Vector512<float>.One;
            return z;
        }
        var t = Vector512<float>.One - Vector512.Create(2f) / (Exp(z * Vector512.Create(2f / cap)) + Vector512<float>.One);
        slope = Vector512<float>.One - t * t;
        return t * Vector512.Create(cap);
    }

    /// <summary>
    /// e^x, inlined into the loops (Vector512.Exp is a call per vector): e^x = 2^k · e^f with k = round(x / ln 2) and
    /// f = x − k ln 2 (ln 2 in two parts, Cody–Waite), e^f by Cephes' expf polynomial on |f| ≤ ln 2 / 2 (about 1 ulp),
    /// 2^k applied by vscalefps. x is clamped to [−104, 88]: e^−104 is below the smallest float (and −∞ gives 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.Min(Vector512.Max(x, Vector512.Create(-104f)), Vector512.Create(88f));
        var k = Avx512F.RoundScale(x * Vector512.Create(1.44269504088896341f), 0);       // round to nearest
        var f = Vector512.FusedMultiplyAdd(k, Vector512.Create(-0.693359375f), x);
        f = Vector512.FusedMultiplyAdd(k, Vector512.Create(2.12194440e-4f), f);
        var p = Vector512.Create(1.9875691500e-4f);
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, f, Vector512.Create(5.0000001201e-1f));
        p = Vector512.FusedMultiplyAdd(p, f * f, f + Vector512<float>.One);
        return Avx512F.Scale(p, k);
    }

    private static readonly Vector512<int> Lanes0 = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    private static readonly Vector512<int> Lanes1 = Lanes0 + Vector512.Create(16);

    /// <summary>The lanes of ids in the vocabulary (all but the padding of the last panel).</summary>
    private (Vector512<float>, Vector512<float>) Valid(int id0)
    {
        var valid = Vector512.Create(panels.Vocab - id0);
        return (Vector512.LessThan(Lanes0, valid).AsSingle(), Vector512.LessThan(Lanes1, valid).AsSingle());
    }

    /// <summary>The lane of one id in the panel's two vectors.</summary>
    private static (Vector512<float>, Vector512<float>) Lane(int j)
    {
        var id = Vector512.Create(j);
        return (Vector512.Equals(Lanes0, id).AsSingle(), Vector512.Equals(Lanes1, id).AsSingle());
    }

    private static float Max(Vector512<float> v)
    {
        var half = Vector256.Max(v.GetLower(), v.GetUpper());
        var quarter = Vector128.Max(half.GetLower(), half.GetUpper());
        return Math.Max(Math.Max(quarter[0], quarter[1]), Math.Max(quarter[2], quarter[3]));
    }

    public void Dispose() => panels.Dispose();
}
