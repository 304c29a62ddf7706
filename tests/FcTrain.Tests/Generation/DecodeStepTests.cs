using FcTrain.Generation;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Generation;

/// <summary>The CPU decoding step against the modules it replaces while decoding.</summary>
public class DecodeStepTests
{
    private static readonly long[][] Prompts = [[2, 17, 93, 250, 41, 8, 77], [2, 301, 5], [2, 64, 128, 9, 200, 31, 45, 12, 99, 3, 150]];

    /// <summary>The conformance checkpoint (sliding window of 5 on even layers, both soft-caps, GQA) with an adapter on
    /// every projection and the embedding, its B factors made non-zero so that the adapter changes every output.</summary>
    private static Gemma2ForCausalLM ModelWithAdapter()
    {
        var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        model.ApplyLora(new LoraConfig(4, 8, 0.1, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens", "lm_head"]));
        using (no_grad())
            foreach (var (name, p) in model.AdapterParameters())
                if (name.Contains("lora_B") || name.Contains("lora_embedding_A")) p.normal_(0, 0.3, generator: new Generator(5));
        model.eval();
        return model;
    }

    /// <summary>Prefills each prompt into its row of a new cache through the modules, as <see cref="TextGenerator"/> does.</summary>
    private static KvCache Prefilled(Gemma2ForCausalLM model, long[][] prompts, int capacity)
    {
        var cache = new KvCache(model.Config.NumHiddenLayers, capacity, prompts.Length);
        for (int row = 0; row < prompts.Length; row++)
        {
            using var scope = NewDisposeScope();
            cache.StartAtRow(row);
            model.Hidden(tensor(prompts[row]).unsqueeze(0), arange(prompts[row].Length).unsqueeze(0), null, cache);
        }
        cache.StartAtRow(0);
        return cache;
    }

    [Fact]
    public void Twenty_steps_of_three_rows_equal_the_modules_steps_within_float32_rounding()
    {
        using var scope = NewDisposeScope();
        using var model = ModelWithAdapter();
        using var _ = no_grad();
        const int Capacity = 40, Steps = 20;   // every row runs far past the sliding window of 5
        using var modulesCache = Prefilled(model, Prompts, Capacity);
        using var stepCache = Prefilled(model, Prompts, Capacity);
        using var step = new DecodeStep(model, Capacity);   // not For: the test runs on any CPU

        var positions = Prompts.Select(p => p.Length).ToArray();
        for (int s = 0; s < Steps; s++)
        {
            int[] ids = [.. positions.Select((p, r) => 3 + (p * 37 + r * 11) % 380)];
            var expected = model.Hidden(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(1),
                                        tensor(positions.Select(p => (long)p).ToArray()).unsqueeze(1), null, modulesCache)[.., 0];   // (B, C)
            var actual = step.Run(ids, positions, stepCache);

            Assert.Equal(expected.shape, actual.shape);
            Assert.True(allclose(actual, expected, rtol: 1e-5, atol: 1e-5), $"step {s}: {(actual - expected).abs().max().item<float>()}");
            for (int r = 0; r < positions.Length; r++) positions[r]++;
        }
        // The keys and values it wrote are the modules' too: a later forward through the modules may read them.
        for (int layer = 0; layer < model.Config.NumHiddenLayers; layer++)
        {
            var (keys, values) = stepCache.Layer(layer);
            var (expectedKeys, expectedValues) = modulesCache.Layer(layer);
            Assert.True(allclose(keys, expectedKeys, rtol: 1e-5, atol: 1e-5));
            Assert.True(allclose(values, expectedValues, rtol: 1e-5, atol: 1e-5));
        }
    }

    [Fact]
    public void A_row_of_a_batch_equals_the_same_row_alone_to_the_last_bit()
    {
        using var scope = NewDisposeScope();
        using var model = ModelWithAdapter();
        using var _ = no_grad();
        using var step = new DecodeStep(model, 16);
        using var together = Prefilled(model, Prompts, 16);
        int[] ids = [42, 7, 300];
        int[] positions = [.. Prompts.Select(p => p.Length)];

        var batched = step.Run(ids, positions, together);

        for (int r = 0; r < Prompts.Length; r++)
        {
            using var alone = Prefilled(model, [Prompts[r]], 16);
            var row = step.Run([ids[r]], [positions[r]], alone);
            Assert.Equal(row[0].data<float>().ToArray(), batched[r].data<float>().ToArray());
        }
    }

    [Fact]
    public void Applies_only_to_a_float32_model_in_cpu_memory()
    {
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.BFloat16, CPU);
        Assert.Null(DecodeStep.For(model, 16));
    }

    [Fact]
    public void A_position_past_the_capacity_is_refused()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        model.eval();
        using var _ = no_grad();
        using var step = new DecodeStep(model, 8);
        using var cache = Prefilled(model, [Prompts[0]], 8);

        Assert.Throws<ArgumentOutOfRangeException>(() => step.Run([42], [8], cache));
    }
}
