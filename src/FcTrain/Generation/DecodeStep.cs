using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Generation;

/// <summary>
/// One decoding step of Gemma-2 on the CPU, from each row's new token to its final hidden state, as plain loops over
/// the model's own weights. Through the modules a step of the tiny model is about 330 libtorch operators on tensors of
/// a few hundred floats, 2.2-3.6 ms of dispatch with an adapter attached, as much as the head's whole read; here it is
/// a few dozen matrix-vector products, 0.35 ms. The math is that of the modules (<see cref="Gemma2Model"/> in eval mode, so
/// without dropout) in the same order and in float32:
///
///     x = E[id]·√C (+ LoRA)                          the embedding
///     per layer: h = norm(x); q, k, v = rope(Wq h), rope(Wk h), Wv h; k, v → the cache at the token's position
///                a = softmax(softcap(q·kᵀ · scaling)) · v over the keys the mask allows; x += norm(Wo a)
///                h = norm(x); x += norm(Wd (gelu_tanh(Wg h) ⊙ Wu h))
///     norm(x)                                        the final norm
///
/// with every projection W y + B(s·A y) when it has an adapter. Sums run in another order than libtorch's, so the
/// values differ from the modules' in the last bits (tests hold them to the modules within 1e-5); each row is
/// computed alone, in an order that does not depend on the batch, so a batched step equals a step of one row.
/// It reads the weights in place (float32, contiguous, CPU: <see cref="For"/>), so it lives no longer than the model, and
/// keys and values in the <see cref="KvCache"/> the prefill filled, so prefill (through the modules) and decoding share
/// one cache.
/// </summary>
public sealed unsafe class DecodeStep : IDisposable
{
    /// <summary>A projection as the kernel reads it: W (out, in) row-major and, with an adapter, A (r, in), B (out, r), s.</summary>
    private readonly struct Projection(LoraLinear layer)
    {
        public readonly float* W = HeadPanels.Data(layer.Weight);
        public readonly int Out = (int)layer.Weight.shape[0], In = (int)layer.Weight.shape[1];
        public readonly float* A = layer.LoraA is { } a ? HeadPanels.Data(a.weight!) : null;
        public readonly float* B = layer.LoraB is { } b ? HeadPanels.Data(b.weight!) : null;
        public readonly int Rank = (int)(layer.LoraA?.weight!.shape[0] ?? 0);
        public readonly float Scaling = (float)layer.Scaling;
    }

    /// <summary>One decoder layer's weights, found by their Hugging Face names under <paramref name="path"/>.</summary>
    private sealed class Layer(string path, Dictionary<string, Projection> projections, Dictionary<string, Tensor> norms, int? window)
    {
        public readonly Projection Q = projections[$"{path}.self_attn.q_proj"], K = projections[$"{path}.self_attn.k_proj"],
            V = projections[$"{path}.self_attn.v_proj"], O = projections[$"{path}.self_attn.o_proj"],
            Gate = projections[$"{path}.mlp.gate_proj"], Up = projections[$"{path}.mlp.up_proj"], Down = projections[$"{path}.mlp.down_proj"];
        public readonly float* InputNorm = HeadPanels.Data(norms[$"{path}.input_layernorm"]), PostAttentionNorm = HeadPanels.Data(norms[$"{path}.post_attention_layernorm"]),
            PreFeedforwardNorm = HeadPanels.Data(norms[$"{path}.pre_feedforward_layernorm"]), PostFeedforwardNorm = HeadPanels.Data(norms[$"{path}.post_feedforward_layernorm"]);
        public readonly int? Window = window;
        public int Rank => new[] { Q, K, V, O, Gate, Up, Down }.Max(p => p.Rank);
    }

    private readonly Gemma2Config config;
    private readonly Layer[] layers;
    private readonly float* embedding, embeddingA, embeddingB, finalNorm;   // E (V, C); its adapter A (r, V), B (C, r), or null
    private readonly int embeddingRank;
    private readonly float embeddingScaling, embedScale, scaling, eps;
    private readonly Tensor cos, sin;                                       // (capacity, D): the rotary tables of every position
    private readonly float* cosData, sinData;
    private readonly int capacity, widest, rank;                            // positions; the widest projection; the largest rank

    /// <summary>The step of a float32 CPU model (<see cref="For"/> checks it); without AVX-512 its vectors run emulated.</summary>
    internal DecodeStep(Gemma2ForCausalLM model, int capacity)
    {
        config = model.Config;
        this.capacity = capacity;
        var norms = model.named_parameters().Where(p => p.name.EndsWith("norm.weight"))
            .ToDictionary(p => p.name[..^".weight".Length], p => (Tensor)p.parameter);
        var projections = model.LinearModules().ToDictionary(p => p.Path, p => new Projection(p.Layer));
        layers = [.. model.Model.Layers.Select(layer => new Layer($"model.layers.{layer.Index}", projections, norms, layer.Window))];
        widest = layers.Max(l => Math.Max(l.Q.Out, l.Gate.Out));
        rank = layers.Max(l => l.Rank);
        var embed = model.Model.EmbedTokens;
        embedding = HeadPanels.Data(embed.Weight);
        if (embed.LoraA is { } a && embed.LoraB is { } b)
        {
            embeddingA = HeadPanels.Data(a);
            embeddingB = HeadPanels.Data(b);
            embeddingRank = (int)a.shape[0];
            embeddingScaling = (float)embed.Scaling;
        }
        finalNorm = HeadPanels.Data(norms["model.norm"]);
        // As the modules: √C rounded to float32 before it multiplies, the query scaling and eps as float32 operands.
        embedScale = (float)Math.Sqrt(config.HiddenSize);
        scaling = (float)Math.Pow(config.QueryPreAttnScalar, -0.5);
        eps = (float)config.RmsNormEps;
        using var scope = NewDisposeScope();
        using var positions = capacity.ToScalar();
        var (c, s) = Rotary.Tables(arange(Scalars.Zero, positions, Scalars.One, ScalarType.Int64).unsqueeze(0), config.HeadDim, config.RopeTheta, ScalarType.Float32);
        cos = c.reshape(capacity, config.HeadDim).contiguous().DetachFromDisposeScope();
        sin = s.reshape(capacity, config.HeadDim).contiguous().DetachFromDisposeScope();
        cosData = HeadPanels.Data(cos);
        sinData = HeadPanels.Data(sin);
    }

    /// <summary>
    /// The decoding step of <paramref name="model"/> for caches of up to <paramref name="capacity"/> positions, or null
    /// where the modules run it instead: a model not in float32 CPU memory, weights that are not contiguous, or a CPU
    /// without AVX-512 (the same condition as <see cref="GreedyHead"/>).
    /// </summary>
    public static DecodeStep? For(Gemma2ForCausalLM model, int capacity)
    {
        bool supported = model.parameters().All(p => HeadPanels.Supported(p) && p.is_contiguous());
        return supported ? new DecodeStep(model, capacity) : null;
    }

    /// <summary>
    /// Runs one token a row, <paramref name="ids"/>[r] at position <paramref name="positions"/>[r], over every row of
    /// <paramref name="cache"/> (whose prefill has filled positions 0 … position − 1 of each row), writes their keys
    /// and values into it, and returns the hidden states after the final norm, (B, C).
    /// </summary>
    public Tensor Run(IReadOnlyList<int> ids, IReadOnlyList<int> positions, KvCache cache)
    {
        int rows = ids.Count, c = config.HiddenSize, heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, d = config.HeadDim;
        if (positions.Any(p => p >= capacity)) throw new ArgumentOutOfRangeException(nameof(positions), $"a position is past the step's capacity of {capacity}");
        using var x = new NativeBuffer<float>((long)rows * c);              // (B, C) the residual stream
        using var h = new NativeBuffer<float>((long)rows * c);              // (B, C) a normed copy
        using var q = new NativeBuffer<float>((long)rows * widest);         // (B, H·D) queries, then the gate
        using var k = new NativeBuffer<float>((long)rows * kvHeads * d);    // (B, KV·D)
        using var v = new NativeBuffer<float>((long)rows * kvHeads * d);
        using var a = new NativeBuffer<float>((long)rows * widest);         // (B, H·D) attention output, then up
        using var u = new NativeBuffer<float>((long)rows * rank);           // (B, r) an adapter's s·A x
        using var scores = new NativeBuffer<float>((long)rows * capacity);  // (B, S) one head's scores at a time

        Embed(ids, x.Data);
        for (int i = 0; i < layers.Length; i++)
        {
            var layer = layers[i];
            var (keys, values) = cache.Layer(i);                               // (B, KV, capacity, D)
            if (keys.shape[0] != rows || keys.shape[2] != capacity)
                throw new ArgumentException($"the cache holds ({string.Join(", ", keys.shape)}) for {rows} rows of {capacity} positions");
            float* keyData = HeadPanels.Data(keys), valueData = HeadPanels.Data(values);

            Norm(x.Data, layer.InputNorm, h.Data, rows);
            Project(layer.Q, h.Data, rows, q.Data, u.Data);
            Project(layer.K, h.Data, rows, k.Data, u.Data);
            Project(layer.V, h.Data, rows, v.Data, u.Data);
            float* qs = q.Data, ks = k.Data, vs = v.Data, outputs = a.Data, allScores = scores.Data;
            Split(rows, (long)heads * d * positions.Max(), (from, to) =>
            {
                for (int r = from; r < to; r++)
                    AttendRow(layer, r, positions[r], qs, ks, vs, keyData, valueData, allScores + (long)r * capacity, outputs);
            });
            Project(layer.O, a.Data, rows, h.Data, u.Data);
            AddNormed(h.Data, layer.PostAttentionNorm, x.Data, rows);

            Norm(x.Data, layer.PreFeedforwardNorm, h.Data, rows);
            Project(layer.Gate, h.Data, rows, q.Data, u.Data);
            Project(layer.Up, h.Data, rows, a.Data, u.Data);
            GeluTanhTimes(q.Data, a.Data, (long)rows * layer.Gate.Out);
            Project(layer.Down, q.Data, rows, h.Data, u.Data);
            AddNormed(h.Data, layer.PostFeedforwardNorm, x.Data, rows);
        }
        var hidden = empty(rows, c, ScalarType.Float32);
        Norm(x.Data, finalNorm, HeadPanels.Data(hidden), rows);
        return hidden;                                                        // (B, C)
    }

    /// <summary>x = E[id]·√C, plus the embedding adapter's (Aᵀ[id] Bᵀ)·s when there is one (<see cref="LoraEmbedding"/>).</summary>
    private void Embed(IReadOnlyList<int> ids, float* x)
    {
        int c = config.HiddenSize, vocab = config.VocabSize;
        for (int r = 0; r < ids.Count; r++)
        {
            float* row = x + (long)r * c, e = embedding + (long)ids[r] * c;
            for (int j = 0; j < c; j++) row[j] = e[j];
            if (embeddingA != null)
            {
                for (int j = 0; j < c; j++)
                {
                    float sum = 0;
                    for (int t = 0; t < embeddingRank; t++) sum += embeddingA[(long)t * vocab + ids[r]] * embeddingB[(long)j * embeddingRank + t];
                    row[j] += sum * embeddingScaling;
                }
            }
            for (int j = 0; j < c; j++) row[j] *= embedScale;
        }
    }

    /// <summary>y = x Wᵀ, then y += (s · x Aᵀ) Bᵀ with an adapter: <see cref="LoraLinear.forward"/> in eval mode.</summary>
    private static void Project(in Projection p, float* x, int rows, float* y, float* u)
    {
        Product(p.W, p.Out, p.In, x, rows, y, accumulate: false);
        if (p.Rank == 0) return;
        Product(p.A, p.Rank, p.In, x, rows, u, accumulate: false);
        for (long i = 0; i < (long)rows * p.Rank; i++) u[i] *= p.Scaling;
        Product(p.B, p.Out, p.Rank, u, rows, y, accumulate: true);
    }

    /// <summary>
    /// y (B, out) = x (B, in) · Wᵀ, or y += it: one dot product per output over W's row, so each row of W is read once
    /// for every row of x while it sits in cache. Large products are split over the cores by output (<see cref="Split"/>).
    /// </summary>
    private static void Product(float* w, int outputs, int inputs, float* x, int rows, float* y, bool accumulate)
    {
        void Outputs(int from, int to)
        {
            for (int o = from; o < to; o++)
            {
                float* weights = w + (long)o * inputs;
                for (int r = 0; r < rows; r++)
                {
                    float dot = Dot(weights, x + (long)r * inputs, inputs);
                    y[(long)r * outputs + o] = accumulate ? y[(long)r * outputs + o] + dot : dot;
                }
            }
        }
        Split(outputs, (long)inputs * rows, Outputs);
    }

    /// <summary>
    /// Runs <paramref name="body"/>(from, to) over [0, count), split over the cores when count · cost (multiply-adds) is
    /// large enough to pay for the fork (about 4 MB of weights a step); every item is computed alone, in the same order,
    /// so the split changes no result.
    /// </summary>
    private static void Split(int count, long cost, Action<int, int> body)
    {
        int threads = get_num_threads();
        if (threads == 1 || count < 2 || count * cost < 1 << 20) { body(0, count); return; }
        int chunks = Math.Min(count, threads * 4);
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = threads },
            chunk => body((int)((long)count * chunk / chunks), (int)((long)count * (chunk + 1) / chunks)));
    }

    /// <summary>Σ a[i]·b[i] in a fixed order: four 16-wide partial sums, their total, then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int n)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int i = 0;
        for (; i + 64 <= n; i += 64)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 32), Vector512.Load(b + i + 32), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 48), Vector512.Load(b + i + 48), s3);
        }
        for (; i + 16 <= n; i += 16) s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), s0);
        float sum = Vector512.Sum((s0 + s1) + (s2 + s3));
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>Gemma's RMSNorm of each row of x (B, C) into y: x / √(mean(x²) + eps) · (1 + w), as <see cref="RmsNorm"/>.</summary>
    private void Norm(float* x, float* w, float* y, int rows)
    {
        int c = config.HiddenSize;
        for (int r = 0; r < rows; r++)
        {
            float* row = x + (long)r * c, output = y + (long)r * c;
            float scale = 1f / MathF.Sqrt(Dot(row, row, c) / c + eps);
            for (int j = 0; j < c; j++) output[j] = row[j] * scale * (1f + w[j]);
        }
    }

    /// <summary>x += norm(h): the sandwich norm after a sublayer, added to the residual stream.</summary>
    private void AddNormed(float* h, float* w, float* x, int rows)
    {
        Norm(h, w, h, rows);
        for (long i = 0; i < (long)rows * config.HiddenSize; i++) x[i] += h[i];
    }

    /// <summary>x · cos + rotate_half(x) · sin at one position, for one head's D channels (<see cref="Rotary.Apply"/>).</summary>
    private void Rope(float* x, int position)
    {
        int d = config.HeadDim, half = d / 2;
        float* c = cosData + (long)position * d, s = sinData + (long)position * d;
        Span<float> rotated = stackalloc float[d];
        for (int j = 0; j < half; j++) { rotated[j] = -x[j + half]; rotated[j + half] = x[j]; }
        for (int j = 0; j < d; j++) x[j] = x[j] * c[j] + rotated[j] * s[j];
    }

    /// <summary>
    /// Row <paramref name="r"/>'s attention at <paramref name="position"/>: rotates its queries (B, H·D) and keys (B, KV·D),
    /// writes its key and value into the cache's slot of that position, then attends each query head over the keys the
    /// mask of <see cref="AttentionMask"/> allows (at or before the position; on sliding layers fewer than window back).
    /// </summary>
    private void AttendRow(Layer layer, int r, int position, float* q, float* k, float* v, float* keys, float* values, float* scores, float* output)
    {
        int heads = config.NumAttentionHeads, kvHeads = config.NumKeyValueHeads, d = config.HeadDim;
        for (int head = 0; head < heads; head++) Rope(q + (long)(r * heads + head) * d, position);
        for (int kv = 0; kv < kvHeads; kv++)
        {
            Rope(k + (long)(r * kvHeads + kv) * d, position);
            long slot = ((long)(r * kvHeads + kv) * capacity + position) * d;
            Buffer.MemoryCopy(k + (long)(r * kvHeads + kv) * d, keys + slot, d * sizeof(float), d * sizeof(float));
            Buffer.MemoryCopy(v + (long)(r * kvHeads + kv) * d, values + slot, d * sizeof(float), d * sizeof(float));
        }
        int first = layer.Window is int window ? Math.Max(0, position - window + 1) : 0;
        for (int head = 0; head < heads; head++)
        {
            long kv = (long)(r * kvHeads + head / (heads / kvHeads)) * capacity;   // repeat_interleave: query head → its KV head
            Attend(q + (long)(r * heads + head) * d, keys + (kv + first) * d, values + (kv + first) * d, position - first + 1,
                   scores, output + (long)(r * heads + head) * d);
        }
    }

    /// <summary>
    /// One query head over <paramref name="count"/> consecutive keys and values (D each): the scores scaled, soft-capped
    /// (cap · tanh(s / cap)), softmax in float32, and the probabilities' sum of the values into <paramref name="output"/>.
    /// </summary>
    private void Attend(float* query, float* keys, float* values, int count, float* scores, float* output)
    {
        int d = config.HeadDim;
        float max = float.NegativeInfinity;
        for (int j = 0; j < count; j++)
        {
            float score = Dot(query, keys + (long)j * d, d) * scaling;
            if (config.AttnLogitSoftcapping is double cap) score = MathF.Tanh(score / (float)cap) * (float)cap;
            scores[j] = score;
            max = Math.Max(max, score);
        }
        float total = 0;
        for (int j = 0; j < count; j++) total += scores[j] = MathF.Exp(scores[j] - max);
        float inverse = 1f / total;
        new Span<float>(output, d).Clear();
        for (int j = 0; j < count; j++)
        {
            float p = scores[j] * inverse;
            float* value = values + (long)j * d;
            int t = 0;
            for (var pv = Vector512.Create(p); t + 16 <= d; t += 16)
                Vector512.FusedMultiplyAdd(pv, Vector512.Load(value + t), Vector512.Load(output + t)).Store(output + t);
            for (; t < d; t++) output[t] = MathF.FusedMultiplyAdd(p, value[t], output[t]);
        }
    }

    /// <summary>gate = gelu_tanh(gate) · up, in place (<see cref="Mlp"/>): 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).</summary>
    private static void GeluTanhTimes(float* gate, float* up, long count)
    {
        const float Beta = 0.7978845608028654f, Kappa = 0.044715f;
        for (long i = 0; i < count; i++)
        {
            float g = gate[i];
            gate[i] = 0.5f * g * (1f + MathF.Tanh(Beta * (g + Kappa * g * g * g))) * up[i];
        }
    }

    public void Dispose()
    {
        cos.Dispose();
        sin.Dispose();
    }
}
