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
    public void Sampling_is_reproducible_with_a_seed()
    {
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        var options = new GenerationOptions(MaxNewTokens: 20, Temperature: 1.0, TopP: 0.9, Seed: 7);

        Assert.Equal(TextGenerator.Generate(model, Prompt, options), TextGenerator.Generate(model, Prompt, options));
    }
}
