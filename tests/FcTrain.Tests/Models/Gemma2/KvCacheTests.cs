using FcTrain.Models;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models.Gemma2;

public class KvCacheTests
{
    [Fact]
    public void Prompts_prefilled_one_row_at_a_time_then_decoded_together_equal_each_prompt_alone()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        model.eval();
        using var _ = no_grad();
        long[][] prompts = [[2, 17, 93, 250, 41, 8, 77], [2, 301, 5], [2, 64, 128, 9, 200, 31, 45, 12, 99, 3, 150]];
        const long Next = 42;   // one decoding step after each prompt, all rows at once

        // Rows 0, 1, 2 of one cache, each prefilled alone at its own length, then one batched step at each row's position.
        using var cache = new KvCache(model.Config.NumHiddenLayers, 16, rows: prompts.Length);
        for (int row = 0; row < prompts.Length; row++)
        {
            cache.StartAtRow(row);
            model.Hidden(tensor(prompts[row]).unsqueeze(0), arange(prompts[row].Length).unsqueeze(0), null, cache);
        }
        cache.StartAtRow(0);
        var positions = tensor(prompts.Select(p => (long)p.Length).ToArray()).unsqueeze(1);                          // (B, 1)
        var batched = model.Hidden(full(prompts.Length, 1, Next), positions, null, cache)[.., 0];                     // (B, C)

        for (int row = 0; row < prompts.Length; row++)
        {
            long[] whole = [.. prompts[row], Next];
            var alone = model.Hidden(tensor(whole).unsqueeze(0), arange(whole.Length).unsqueeze(0))[0, -1];          // (C)
            Assert.True(allclose(batched[row], alone, rtol: 1e-5, atol: 1e-5), $"row {row}: {(batched[row] - alone).abs().max().item<float>()}");
        }
    }

    [Fact]
    public void A_forward_past_the_cache_rows_is_refused()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        using var _ = no_grad();
        using var cache = new KvCache(model.Config.NumHiddenLayers, 8, rows: 2);
        cache.StartAtRow(1);

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => model.Hidden(zeros(2, 3, ScalarType.Int64), arange(3).unsqueeze(0).expand(2, 3), null, cache));
        Assert.Contains("past the cache's 2 rows", error.Message);
    }
}
