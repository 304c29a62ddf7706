using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Generation;

/// <summary>
/// Greedy decoding's head on the CPU, for a float32 head: the product x·Wᵀ fused with the choice, so the (B, V)
/// logits are never written. The vocabulary is cut into panels of 32 rows stored input-major (k, 32) (<see cref="HeadPanels"/>);
/// each panel is read from memory once a step and multiplied with every row's input while it sits in L1, and each row keeps only its
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
    private const int Width = HeadPanels.Width;

    private readonly HeadPanels panels;                  // [W, B] in panels of 32 ids
    private readonly Tensor? loraA;                      // (r, C) float32, the head's adapter input projection
    private readonly Scalar scaling;                     // the adapter scaling as a float32 Scalar (see Scalars)
    private readonly double? cap;

    /// <param name="weight">The head's (V, C) weight.</param>
    /// <param name="loraA">The head's adapter (r, C), or null; <paramref name="loraB"/> (V, r) comes with it.</param>
    /// <param name="cap">The final logit soft-cap, or null.</param>
    public GreedyHead(Tensor weight, Tensor? loraA, Tensor? loraB, double scaling, double? cap)
    {
        panels = new HeadPanels(weight, loraB);
        using (no_grad()) this.loraA = loraA?.to(ScalarType.Float32).contiguous().detach().DetachFromDisposeScope();   // owned here
        this.scaling = ((float)scaling).ToScalar();
        this.cap = cap;
    }

    /// <summary>The fused head of <paramref name="model"/>, or null where the tensor path is the better one (see
    /// <see cref="HeadPanels.Supported"/>).</summary>
    public static GreedyHead? For(Gemma2ForCausalLM model)
    {
        var head = model.LmHead;
        return HeadPanels.Supported(head.Weight)
            ? new GreedyHead(head.Weight, head.LoraA?.weight, head.LoraB?.weight, head.Scaling, model.Config.FinalLogitSoftcapping)
            : null;
    }

    /// <summary>Each row's greedy choice for hidden states (B, C), and the gap between its capped logit and the runner-up's.</summary>
    public (int[] Chosen, float[] Margin) Choose(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = hidden.to(ScalarType.Float32);
        if (loraA is not null) x = cat([x, nn.functional.linear(x, loraA).mul_(scaling)], 1);                               // (B, K)
        x = x.contiguous();
        int batch = (int)x.shape[0], count = panels.Count;

        int threads = Math.Max(1, get_num_threads()), chunks = threads * 4;
        var results = new Top2[chunks, batch];
        float* input = HeadPanels.Data(x);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
        {
            var top = new Top2[batch];
            Array.Fill(top, Top2.Empty);
            Scan(input, batch, count * chunk / chunks, count * (chunk + 1) / chunks, top);
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

    /// <summary>Panels [from, to) against every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private void Scan(float* x, int batch, int from, int to, Top2[] top)
    {
        using var logits = new NativeBuffer<float>(batch * Width);
        for (int p = from; p < to; p++)
        {
            int id0 = p * Width, valid = Math.Min(Width, panels.Vocab - id0);
            HeadPanels.Product(x, batch, panels.Inputs, panels.Panel(p), logits.Data);
            for (int r = 0; r < batch; r++) top[r].Add(logits.Data + r * Width, id0, valid);
        }
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
        panels.Dispose();
        loraA?.Dispose();
        scaling.Dispose();
    }
}
