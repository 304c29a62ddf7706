using FcTrain.Models;
using FcTrain.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

/// <summary>
/// A deliberately small causal LM for testing the training loop on its own: frozen random base weights,
/// trainable low-rank updates with dropout on every projection and on the tied head, single-head causal
/// attention restricted to each packed document, a final logit soft-cap. Same structure as Gemma-2 + LoRA
/// (what the loop sees), a hundred times smaller, float64-capable for finite differences.
/// </summary>
internal sealed class ToyLoraLm : ITrainableModel
{
    // Held Scalars in the per-step code, as in the library (see FcTrain.Models.Scalars).
    static readonly Scalar SoftCap = 5.0.ToScalar(), LoraScaling = 2.0.ToScalar(), Eps = 1e-6.ToScalar();
    readonly Tensor embed;                        // (V, C), frozen, tied head
    readonly Layer[] layers;
    readonly LowRank head;
    readonly double dropout;
    bool dropoutOn = true;

    sealed class LowRank(string name, long inFeatures, long outFeatures, int rank, ScalarType dtype)
    {
        // PEFT's init: A ~ Kaiming-uniform-like, B = 0, so the update starts at zero.
        public readonly Parameter A = new(randn(rank, inFeatures, dtype: dtype) / Math.Sqrt(inFeatures));
        public readonly Parameter B = new(zeros(outFeatures, rank, dtype: dtype));
        public readonly string Name = name;
        public Tensor Delta(Tensor x, double p, bool training) =>
            nn.functional.dropout(x, p, training).matmul(A.T).matmul(B.T) * LoraScaling;
    }

    sealed class Layer(nn.Module owner, int index, long c, int rank, ScalarType dtype)
    {
        public readonly Tensor Wq = randn(c, c, dtype: dtype) / Math.Sqrt(c), Wv = randn(c, c, dtype: dtype) / Math.Sqrt(c);
        public readonly LowRank Q = new($"layers.{index}.q", c, c, rank, dtype), V = new($"layers.{index}.v", c, c, rank, dtype);
        public readonly nn.Module Module = owner; // checkpointing collects the trainable parameters of this module
    }

    public ToyLoraLm(int vocab = 24, int hidden = 16, int layerCount = 2, int rank = 4, double dropout = 0.1, ScalarType dtype = ScalarType.Float32, int seed = 1)

    {
        random.manual_seed(seed);
        this.dropout = dropout;
        embed = randn(vocab, hidden, dtype: dtype);
        layers = Enumerable.Range(0, layerCount).Select(i => new Layer(new LayerModule(), i, hidden, rank, dtype)).ToArray();
        foreach (var layer in layers) ((LayerModule)layer.Module).Attach(layer);
        head = new LowRank("head", hidden, vocab, rank, dtype);
    }

    sealed class LayerModule() : nn.Module("layer")
    {
        public void Attach(Layer layer)
        {
            register_parameter("q_A", layer.Q.A);
            register_parameter("q_B", layer.Q.B);
            register_parameter("v_A", layer.V.A);
            register_parameter("v_B", layer.V.B);
        }
    }

    public ModelSource Source => new("toy", "(in memory)", null);

    public long VocabSize => embed.shape[0];

    public Tensor HiddenStates(Batch batch, LayerRunner runLayer)
    {
        var h = embed.index_select(0, batch.InputIds.reshape(-1)).reshape(batch.InputIds.shape[0], batch.InputIds.shape[1], -1); // (B, T, C)
        long t = h.shape[1];
        // Causal and block-diagonal: position i sees j <= i of its own document.
        var sameDoc = batch.DocumentIds.unsqueeze(2).eq(batch.DocumentIds.unsqueeze(1));      // (B, T, T)
        var mask = sameDoc.logical_and(ones(t, t, dtype: ScalarType.Bool).tril());
        foreach (var layer in layers)
        {
            h = runLayer(layer.Module, x =>
            {
                var q = x.matmul(layer.Wq).add(layer.Q.Delta(x, dropout, dropoutOn), alpha: Scalars.One);
                var v = x.matmul(layer.Wv).add(layer.V.Delta(x, dropout, dropoutOn), alpha: Scalars.One);
                using var sqrtC = Math.Sqrt(x.shape[2]).ToScalar();
                var scores = q.matmul(x.transpose(1, 2)) / sqrtC;                               // (B, T, T)
                var attn = scores.masked_fill(mask.logical_not(), Scalars.NegativeInfinity).softmax(-1);
                return x.add(nn.functional.gelu(attn.matmul(v)), alpha: Scalars.One);
            }, h);
        }
        return h / h.pow(Scalars.Two).mean([-1], keepdim: true).add(Eps, alpha: Scalars.One).sqrt();
    }

    public Tensor Logits(Tensor hidden)
    {
        var logits = hidden.matmul(embed.T).add(head.Delta(hidden, dropout, dropoutOn), alpha: Scalars.One); // (N, V)
        return (logits / SoftCap).tanh() * SoftCap;
    }

    public IReadOnlyList<(string Name, Parameter Value)> TrainableParameters() =>
        layers.SelectMany(l => new[] { l.Q, l.V }).Append(head)
            .SelectMany(r => new[] { ($"{r.Name}.lora_A", r.A), ($"{r.Name}.lora_B", r.B) })
            .ToList();

    public void Train(bool on) => dropoutOn = on;

    public void SaveAdapter(string directory)
    {
        Directory.CreateDirectory(directory);
        FcTrain.IO.AtomicFile.Write(Path.Combine(directory, "toy-adapter.bin"), stream =>
        {
            using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            foreach (var (_, value) in TrainableParameters()) value.detach().Save(writer);
        });
    }

    /// <summary>Makes every token <paramref name="id"/> produce NaN (to test the divergence guard).</summary>
    public void Poison(int id)
    {
        using var _ = no_grad();
        embed[id].fill_(double.NaN);
    }
}
