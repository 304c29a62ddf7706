using FcTrain.Models;
using FcTrain.Models.Gemma2;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

/// <summary>transformers' resize_token_embeddings with mean_resizing, on real tables and the tiny model.</summary>
public sealed class EmbeddingResizeTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Tiny_grows_to_256008_rows_keeping_the_old_ones_and_drawing_seeded_rows_next_to_the_mean()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU);
        var before = model.Model.EmbedTokens.Weight.detach().clone();                    // (256000, C)
        var mean = before.mean([0]);                                                    // (C)

        model.ResizeTokenEmbeddings(256008, new Generator(42));

        var after = model.Model.EmbedTokens.Weight;
        Assert.Equal([256008L, 128L], after.shape);
        Assert.Equal(256008, model.Config.VocabSize);
        Assert.Equal(256000, model.ResizedFrom);
        Assert.True(after[..256000].Equals(before));                        // old rows bit for bit
        var added = after[256000..];                                                    // (8, C)
        Assert.True(added.isfinite().all().item<bool>());
        // The tiny table (256000 random rows in 128 dims) has a positive definite covariance: the rows are samples of
        // N(μ, 1e-9 Σ), a few 1e-7 from the mean (σ = 0.02 → √1e-9 · 0.02 ≈ 6e-7), and not the mean itself.
        Assert.True((added - mean).abs().max().item<float>() < 1e-5);
        Assert.False(added[0].Equals(mean));
        Assert.False(added[0].Equals(added[1]));

        // The head is tied: it reads the grown table, so logits cover the new tokens.
        var logits = model.Logits(randn(1, 128));
        Assert.Equal([1L, 256008L], logits.shape);

        // Same seed, same rows.
        using var again = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU);
        again.ResizeTokenEmbeddings(256008, new Generator(42));
        Assert.True(again.Model.EmbedTokens.Weight[256000..].Equals(added));
    }

    [Fact]
    public void Rows_are_drawn_with_the_mean_and_1e_minus_9_times_the_covariance_of_the_old_rows()
    {
        using var scope = NewDisposeScope();
        var generator = new Generator(5);
        var mixing = tensor(new float[] { 1.0f, 0.0f, 0.0f, 0.5f, 2.0f, 0.0f, -0.3f, 0.4f, 0.7f }).reshape(3, 3);
        var table = randn([4000, 3], generator: generator).matmul(mixing) + tensor(new float[] { 1f, -2f, 0.5f });   // (V, 3)
        var mean = table.mean([0]);
        var centered = table - mean;
        var covariance = centered.T.matmul(centered) / table.shape[0];                  // (3, 3)

        var rows = EmbeddingResize.NewRows(table, 20000, generator).to(ScalarType.Float64);   // (N, 3)
        var deviation = (rows - mean.to(ScalarType.Float64)) / Math.Sqrt(EmbeddingResize.CovarianceScale);
        var sampleMean = deviation.mean([0]);                                            // ≈ 0 in units of √(1e-9 Σ)
        var sampleCovariance = deviation.T.matmul(deviation) / rows.shape[0];            // ≈ Σ

        Assert.True(sampleMean.abs().max().item<double>() < 0.1, string.Join(", ", sampleMean.data<double>().ToArray()));
        var relative = (sampleCovariance - covariance.to(ScalarType.Float64)).abs().max() / covariance.abs().max();
        Assert.True(relative.item<double>() < 0.05, string.Join(", ", sampleCovariance.data<double>().ToArray()));
    }

    [Fact]
    public void A_covariance_that_is_not_positive_definite_gives_the_mean()
    {
        using var scope = NewDisposeScope();
        // 3 rows in 8 dimensions: the covariance has rank 2, so there is no Cholesky factor.
        var table = new Parameter(randn(3, 8), requires_grad: false);
        var mean = table.mean([0]);

        EmbeddingResize.Grow(table, 5, new Generator(1));

        Assert.Equal([5L, 8L], table.shape);
        Assert.True(table[3].allclose(mean, rtol: 0, atol: 1e-7));
        Assert.True(table[4].allclose(mean, rtol: 0, atol: 1e-7));
    }

    [Fact]
    public void An_untied_head_grows_with_the_embeddings_and_LoRA_must_come_after()
    {
        using var scope = NewDisposeScope();
        var config = new Gemma2Config
        {
            VocabSize = 300, HiddenSize = 16, IntermediateSize = 32, NumHiddenLayers = 1, NumAttentionHeads = 2, NumKeyValueHeads = 1,
            HeadDim = 8, QueryPreAttnScalar = 8, SlidingWindow = 4, TieWordEmbeddings = false,
        };
        using var model = new Gemma2ForCausalLM(config, ScalarType.Float32, CPU);
        using (no_grad()) foreach (var (_, p) in model.named_parameters()) p.normal_(0, 0.02);
        var head = model.LmHead.Weight.detach().clone();

        model.ResizeTokenEmbeddings(308, new Generator(3));

        Assert.Equal([308L, 16L], model.Model.EmbedTokens.Weight.shape);
        Assert.Equal([308L, 16L], model.LmHead.Weight.shape);
        Assert.True(model.LmHead.Weight[..300].Equals(head));
        Assert.True((model.LmHead.Weight[300..] - head.mean([0])).abs().max().item<float>() < 1e-5);
        Assert.False(model.LmHead.Weight[300..].Equals(model.Model.EmbedTokens.Weight[300..]));

        model.ApplyLora(new FcTrain.Lora.LoraConfig(2, 4, 0, ["embed_tokens"]));
        Assert.Equal([2L, 308L], model.Model.EmbedTokens.LoraA!.shape);
        Assert.Throws<InvalidOperationException>(() => model.ResizeTokenEmbeddings(316, new Generator(3)));
    }
}
