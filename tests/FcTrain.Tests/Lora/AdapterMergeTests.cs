using FcTrain.Settings;
using FcTrain.Lora;
using FcTrain.Tests.Training;
using FcTrain.Training;
using static TorchSharp.torch;

namespace FcTrain.Tests.Lora;

[Collection(TorchRngCollection.Name)]
public class AdapterMergeTests
{
    [Fact]
    public void Merged_linear_equals_base_plus_low_rank_path()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(1);
        var w = randn(12, 8); var a = randn(4, 8); var b = randn(12, 4); var x = randn(5, 8);
        double scale = new LoraSettings { Rank = 4, Alpha = 8 }.ToConfig().Scaling;
        Assert.Equal(2.0, scale);
        var unmerged = x.matmul(w.T) + x.matmul(a.T).matmul(b.T) * scale;
        var merged = x.matmul(AdapterMerge.Linear(w, a, b, scale).T);
        Assert.True(allclose(unmerged, merged, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Merged_embedding_equals_lookup_through_peft_embedding_adapter()
    {
        using var scope = NewDisposeScope();
        random.manual_seed(2);
        var w = randn(20, 6); var a = randn(3, 20); var b = randn(6, 3);
        var ids = tensor(new long[] { 0, 7, 19, 7 });
        // PEFT Embedding.forward: base(x) + embedding(x, lora_embedding_A.T) @ lora_embedding_B.T * scaling
        var unmerged = w.index_select(0, ids) + a.T.index_select(0, ids).matmul(b.T) * 0.5;
        var merged = AdapterMerge.Embedding(w, a, b, 0.5).index_select(0, ids);
        Assert.True(allclose(unmerged, merged, rtol: 1e-5, atol: 1e-5));
    }

    [Fact]
    public void Rank_stabilised_scale_is_alpha_over_sqrt_r()
    {
        Assert.Equal(16.0, new LoraSettings { Rank = 16, Alpha = 64, UseRsLora = true }.ToConfig().Scaling);
        Assert.Equal(4.0, new LoraSettings { Rank = 16, Alpha = 64 }.ToConfig().Scaling);
    }
}
