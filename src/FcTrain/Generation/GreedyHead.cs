using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Generation;

/// <summary>
/// Greedy decoding's head on the CPU, for a float32 head: the product x·Wᵀ fused with the choice, so the (B, V) logits
/// are never written, and read in bfloat16 to halve the bytes of the step's largest read, with an exact result:
///
/// 1. Screen. The head [W | B] sits in bfloat16 panels of 32 ids stored input-major (<see cref="HeadPanels"/>, 74 MB for
///    tiny with the course's adapter instead of 147 MB); each panel is read once a step and multiplied with every row's
///    input x = [h, s·(h Aᵀ)] while it sits in L1. That gives each id an estimate z′ with |z − z′| ≤ ε, where ε bounds the
///    bfloat16 rounding of the weights and the float32 rounding of both sums (<see cref="Epsilon"/>).
/// 2. Rescore. Only ids whose estimate is within 2ε of the runner-up's can be among the two best, so only those (a
///    handful) get their exact float32 logit, from the float32 weights with the same sum, in the same order, as a float32
///    panel would compute it. The choice and the margin are those of a float32 scan to the last bit.
///
/// The soft-cap (cap · tanh(z / cap)) is monotonic, so the choice is the argmax of the uncapped logits and only the two
/// compared values are capped for the margin. Every sum runs in one fixed order whatever the batch, so a row's choice
/// does not depend on which rows share its batch. The bfloat16 panels are a copy of the weights as they were when it
/// was built, and the rescore reads the weights themselves: build it once per model and keep it while they do not change.
/// </summary>
public sealed unsafe class GreedyHead : IDisposable
{
    private const int Width = HeadPanels.Width;

    private readonly HeadPanels panels;                  // [W, B] in bfloat16 panels of 32 ids: the screen
    private readonly Tensor weight;                      // (V, C) float32: the exact logits
    private readonly Tensor? loraA, loraB;               // (r, C), (V, r) float32: the head's adapter
    private readonly float* weightData, loraBData;
    private readonly Scalar scaling;                     // the adapter scaling as a float32 Scalar (see Scalars)
    private readonly double? cap;
    private readonly double[] slack;                     // (K): per input, how far a bfloat16 sum may be from the float32 one, per unit of |x_k|

    /// <param name="weight">The head's (V, C) weight.</param>
    /// <param name="loraA">The head's adapter (r, C), or null; <paramref name="loraB"/> (V, r) comes with it.</param>
    /// <param name="cap">The final logit soft-cap, or null.</param>
    public GreedyHead(Tensor weight, Tensor? loraA, Tensor? loraB, double scaling, double? cap)
    {
        panels = new HeadPanels(weight, loraB, ScalarType.BFloat16);
        using (no_grad())
        {
            // Owned handles on the same storage: the rescore reads them as long as this head lives.
            this.weight = weight.detach().contiguous().DetachFromDisposeScope();
            this.loraA = loraA?.to(ScalarType.Float32).contiguous().detach().DetachFromDisposeScope();
            this.loraB = loraB?.to(ScalarType.Float32).contiguous().detach().DetachFromDisposeScope();
        }
        weightData = HeadPanels.Data(this.weight);
        loraBData = this.loraB is null ? null : HeadPanels.Data(this.loraB);
        this.scaling = ((float)scaling).ToScalar();
        this.cap = cap;
        slack = Slack(panels);
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

    /// <summary>
    /// Per input k: δ_k + γ_K·(2 + 2⁻⁸)·m_k, with δ_k the largest bfloat16 rounding error and m_k the largest magnitude of a
    /// weight of input k (<see cref="HeadPanels.RoundingError"/>, <see cref="HeadPanels.Magnitude"/>). For any id,
    /// |Σ x_k w_k − Σ x_k bf16(w_k)| ≤ Σ |x_k| δ_k, and a float32 sum of K products, in any order, is within γ_K Σ |x_k| |w_k|
    /// of its exact value (γ_K = K u / (1 − K u), u = 2⁻²⁴; |bf16(w)| ≤ (1 + 2⁻⁸)|w|). NaN when a weight is not finite.
    /// </summary>
    private static double[] Slack(HeadPanels panels)
    {
        double u = Math.ScaleB(1, -24), gamma = panels.Inputs * u / (1 - panels.Inputs * u);
        return [.. panels.RoundingError!.Zip(panels.Magnitude!, (delta, magnitude) => delta + gamma * (2 + Math.ScaleB(1, -8)) * magnitude)];
    }

    /// <summary>Each row's greedy choice for hidden states (B, C), and the gap between its capped logit and the runner-up's.</summary>
    public (int[] Chosen, float[] Margin) Choose(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = hidden.to(ScalarType.Float32);
        if (loraA is not null) x = cat([x, nn.functional.linear(x, loraA).mul_(scaling)], 1);                               // (B, K)
        x = x.contiguous();
        int batch = (int)x.shape[0], count = panels.Count;
        float* input = HeadPanels.Data(x);
        var epsilon = new float[batch];
        for (int r = 0; r < batch; r++) epsilon[r] = Epsilon(input + (long)r * panels.Inputs);

        int threads = Math.Max(1, get_num_threads()), chunks = threads * 4;
        var screens = new Screen[chunks];
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads }, chunk =>
            screens[chunk] = Scan(input, batch, epsilon, count * chunk / chunks, count * (chunk + 1) / chunks));

        var chosen = new int[batch];
        var margin = new float[batch];
        for (int r = 0; r < batch; r++)
        {
            var top = Rescore(input + (long)r * panels.Inputs, Candidates(screens, r, epsilon[r]));
            chosen[r] = top.Id;
            margin[r] = Gemma2ForCausalLM.SoftCap(top.Best, cap) - Gemma2ForCausalLM.SoftCap(top.Second, cap);
        }
        return (chosen, margin);
    }

    /// <summary>ε for one row's input: Σ |x_k| slack_k, summed in double and widened by 10⁻⁴ so that its own rounding
    /// stays inside; +∞ for an input that is not finite (the rescore then covers every id).</summary>
    private float Epsilon(float* x)
    {
        double sum = 0;
        for (int k = 0; k < slack.Length; k++) sum += Math.Abs(x[k]) * slack[k];
        return double.IsFinite(sum) ? (float)(sum * 1.0001) : float.PositiveInfinity;
    }

    /// <summary>What one chunk of panels found for every row: its two best estimates and the ids that came within 2ε of
    /// the runner-up as it stood then.</summary>
    private sealed class Screen(int batch)
    {
        public readonly float[] Best = Enumerable.Repeat(float.NegativeInfinity, batch).ToArray();
        public readonly float[] Second = Enumerable.Repeat(float.NegativeInfinity, batch).ToArray();
        public readonly List<(int Id, float Estimate)>[] Candidates = [.. Enumerable.Range(0, batch).Select(_ => new List<(int, float)>())];
    }

    /// <summary>Screens panels [from, to) against every row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]   // hot from the first call: no tier-0 code
    private Screen Scan(float* x, int batch, float[] epsilon, int from, int to)
    {
        var screen = new Screen(batch);
        using var logits = new NativeBuffer<float>(batch * Width);
        for (int p = from; p < to; p++)
        {
            HeadPanels.ProductBFloat16(x, batch, panels.Inputs, panels.PanelBFloat16(p), logits.Data);
            for (int r = 0; r < batch; r++)
            {
                float* z = logits.Data + r * Width;
                float threshold = Threshold(screen.Second[r], epsilon[r]);
                var low = Vector512.Create(threshold);
                if (!Vector512.GreaterThanOrEqualAny(Vector512.Load(z), low) && !Vector512.GreaterThanOrEqualAny(Vector512.Load(z + 16), low)) continue;
                for (int t = 0; t < Width; t++)
                {
                    int id = p * Width + (t < 16 ? 2 * t : 2 * (t - 16) + 1);   // the even ids, then the odd ones
                    if (id >= panels.Vocab || !(z[t] >= threshold)) continue;
                    screen.Candidates[r].Add((id, z[t]));
                    if (z[t] > screen.Best[r]) { screen.Second[r] = screen.Best[r]; screen.Best[r] = z[t]; }
                    else if (z[t] > screen.Second[r]) screen.Second[r] = z[t];
                    threshold = Threshold(screen.Second[r], epsilon[r]);
                }
            }
        }
        return screen;
    }

    /// <summary>second − 2ε as a float32 at or below its exact value, so that rounding never drops an id the bound keeps.</summary>
    private static float Threshold(float second, float epsilon) => MathF.BitDecrement((float)(second - 2.0 * epsilon));

    /// <summary>Row <paramref name="r"/>'s ids whose estimate is within 2ε of the runner-up's over the whole vocabulary,
    /// in id order; every id when that is not known (ε infinite, or nothing finite was found).</summary>
    private IEnumerable<int> Candidates(Screen[] screens, int r, float epsilon)
    {
        float best = float.NegativeInfinity, second = float.NegativeInfinity;
        foreach (var screen in screens)
            foreach (float z in (float[])[screen.Best[r], screen.Second[r]])
                if (z > best) { second = best; best = z; }
                else if (z > second) second = z;
        double threshold = second - 2.0 * epsilon;
        if (!double.IsFinite(threshold)) return Enumerable.Range(0, panels.Vocab);
        return screens.SelectMany(s => s.Candidates[r]).Where(c => c.Estimate >= threshold).Select(c => c.Id).Order();
    }

    /// <summary>The two best exact logits among <paramref name="ids"/> (in increasing order: ties keep the lowest id).</summary>
    private Top2 Rescore(float* x, IEnumerable<int> ids)
    {
        var top = Top2.Empty;
        foreach (int id in ids) top.Add(Logit(x, id), id);
        return top;
    }

    /// <summary>
    /// The float32 logit of <paramref name="id"/>: Σ_k x_k [W | B]_id,k as one fused multiply-add after another in k's order,
    /// the sum a float32 panel's lane makes (<see cref="HeadPanels.Product"/>), to the last bit.
    /// </summary>
    private float Logit(float* x, int id)
    {
        float sum = 0;
        float* w = weightData + (long)id * panels.Hidden;
        for (int k = 0; k < panels.Hidden; k++) sum = MathF.FusedMultiplyAdd(w[k], x[k], sum);
        float* b = loraBData + (long)id * panels.Rank;
        for (int k = 0; k < panels.Rank; k++) sum = MathF.FusedMultiplyAdd(b[k], x[panels.Hidden + k], sum);
        return sum;
    }

    /// <summary>A row's best logit so far, its id, and the best of the others.</summary>
    [StructLayout(LayoutKind.Auto)]
    private struct Top2
    {
        public float Best, Second;
        public int Id;

        public static Top2 Empty => new() { Best = float.NegativeInfinity, Second = float.NegativeInfinity };

        public void Add(float z, int id)
        {
            if (z > Best) { Second = Best; Best = z; Id = id; }
            else if (z > Second) Second = z;
        }
    }

    public void Dispose()
    {
        panels.Dispose();
        weight.Dispose();
        loraA?.Dispose();
        loraB?.Dispose();
        scaling.Dispose();
    }
}
