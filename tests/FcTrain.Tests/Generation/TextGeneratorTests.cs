using FcTrain.Generation;
using FcTrain.Models;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Generation;

public class TextGeneratorTests
{
    // The conformance checkpoint has a sliding window of 5 on even layers: 30 new tokens after an 8-token prompt
    // run far past it, so the cache's trimming and the window mask are both exercised.
    private static readonly int[] Prompt = [2, 82, 154, 252, 238, 86, 42, 130];

    [Fact]
    public void Greedy_decoding_with_the_kv_cache_equals_recomputing_everything()
    {
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);

        var cached = TextGenerator.Generate(model, Prompt, new GenerationOptions(MaxNewTokens: 30, UseKvCache: true));
        var uncached = TextGenerator.Generate(model, Prompt, new GenerationOptions(MaxNewTokens: 30, UseKvCache: false));

        Assert.NotEmpty(cached);
        Assert.Equal(uncached, cached);
    }

    [Fact]
    public void Greedy_takes_the_argmax_of_the_full_forward()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        var ids = tensor(Prompt.Select(i => (long)i).ToArray()).unsqueeze(0);
        long expected = model.forward(ids, arange(Prompt.Length).unsqueeze(0))[0, -1].argmax().item<long>();

        var first = TextGenerator.Generate(model, Prompt, new GenerationOptions(MaxNewTokens: 1));

        Assert.True(first.Count == 0 ? TextGenerator.StopIds.Contains((int)expected) : first[0] == expected);
    }

    [Fact]
    public void Batched_greedy_equals_generating_each_prompt_alone()
    {
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        // A louder <eos> row of the tied head makes some rows stop early (and leave the batch) while others run to the
        // limit; no prompt contains id 1, so only the head sees the change.
        using (no_grad()) model.Model.EmbedTokens.Weight[1].mul_(8);
        var random = new Random(11);
        // Lengths from 1 to 23: right-padding of up to 22 positions, rows past the sliding window of 5 and rows within it.
        var prompts = Enumerable.Range(0, 12)
            .Select(i => (IReadOnlyList<int>)[2, .. Enumerable.Range(0, i * 2).Select(_ => random.Next(3, 384))]).ToList();
        var options = new GenerationOptions(MaxNewTokens: 30);

        var batched = TextGenerator.GenerateBatch(model, prompts, options);
        var alone = prompts.Select(p => TextGenerator.GenerateBatch(model, [p], options).Single()).ToList();

        Assert.Equal(prompts.Count, batched.Count);
        for (int i = 0; i < prompts.Count; i++)
        {
            Assert.Equal(alone[i].Ids, batched[i].Ids);
            // The rows' matmuls run at other batch sizes (and the attention over more padded keys), which may round
            // the last bit differently; the margins agree far within what could flip a choice.
            Assert.InRange(batched[i].MinMargin, alone[i].MinMargin - 1e-4f, alone[i].MinMargin + 1e-4f);
        }
        Assert.Contains(batched, g => g.Ids.Count < options.MaxNewTokens);    // some rows stopped and left the batch...
        Assert.Contains(batched, g => g.Ids.Count == options.MaxNewTokens);   // ...while others kept decoding
        Assert.Equal(TextGenerator.Generate(model, prompts[5], options), batched[5].Ids);
    }

    [Fact]
    public void The_greedy_margin_is_the_gap_between_the_two_best_logits_of_the_full_forward()
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        var generated = TextGenerator.GenerateBatch(model, [Prompt], new GenerationOptions(MaxNewTokens: 8)).Single();

        long[] sequence = [.. Prompt.Concat(generated.Ids).Select(i => (long)i)];
        var logits = model.forward(tensor(sequence).unsqueeze(0), arange(sequence.Length).unsqueeze(0))[0];   // (T, V)
        // Positions prompt−1 … T−1 chose the generated tokens, and the stop token when there is one.
        int choices = generated.Ids.Count + (generated.Ids.Count < 8 ? 1 : 0);
        var top2 = logits[TensorIndex.Slice(Prompt.Length - 1, Prompt.Length - 1 + choices)].topk(2, dim: -1).values;
        float expected = (top2[.., 0] - top2[.., 1]).min().item<float>();

        Assert.InRange(generated.MinMargin, expected - 1e-4f, expected + 1e-4f);
    }

    [Fact]
    public void Sampling_is_reproducible_with_a_seed()
    {
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        var options = new GenerationOptions(MaxNewTokens: 20, Temperature: 1.0, TopP: 0.9, Seed: 7);

        Assert.Equal(TextGenerator.Generate(model, Prompt, options), TextGenerator.Generate(model, Prompt, options));
    }
}
