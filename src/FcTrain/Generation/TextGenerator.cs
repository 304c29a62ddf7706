using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Generation;

/// <summary>How to pick tokens. Temperature 0 is greedy (deterministic); above 0 samples, seeded, with top-p.</summary>
public sealed record GenerationOptions(
    int MaxNewTokens = 256,
    double Temperature = 0,
    double TopP = 1.0,
    long Seed = 0,
    bool UseKvCache = true);

/// <summary>
/// Autoregressive decoding for a Gemma-2 model. With the KV cache the prompt runs once and each new token costs
/// one position; without it every step reruns the whole sequence (kept for checking and benchmarking the cache).
/// Stops at <c>&lt;end_of_turn&gt;</c> (107) or <c>&lt;eos&gt;</c> (1), which are not returned.
/// </summary>
public static class TextGenerator
{
    public static readonly IReadOnlySet<int> StopIds = new HashSet<int> { 1, 107 };

    public static List<int> Generate(Gemma2ForCausalLM model, IReadOnlyList<int> prompt, GenerationOptions options, Action<int>? onToken = null)
    {
        model.eval();
        using var _ = no_grad();
        using var cache = options.UseKvCache ? new KvCache(model.Config.NumHiddenLayers) : null;
        var generator = options.Temperature > 0 ? new Generator((ulong)options.Seed) : null;
        var sequence = new List<int>(prompt);
        var output = new List<int>();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            using var scope = NewDisposeScope();
            // With the cache only the tokens it has not seen yet go in: the prompt first, then one token a step.
            int start = cache is null ? 0 : (int)cache.Length;
            var ids = tensor(sequence.Skip(start).Select(i => (long)i).ToArray()).unsqueeze(0).to(model.Device);   // (1, T)
            var positions = arange(start, sequence.Count, ScalarType.Int64, model.Device).unsqueeze(0);              // (1, T)
            var hidden = model.Hidden(ids, positions, documentIds: null, cache);                                   // (1, T, C)
            var logits = model.Logits(hidden[.., -1]).to(ScalarType.Float32).squeeze(0);                          // (V)
            int next = Pick(logits, options, generator);
            if (StopIds.Contains(next)) break;
            sequence.Add(next);
            output.Add(next);
            onToken?.Invoke(next);
        }
        return output;
    }

    private static int Pick(Tensor logits, GenerationOptions options, Generator? generator)
    {
        if (options.Temperature <= 0 || generator is null) return (int)logits.argmax().item<long>();
        var probs = (logits / options.Temperature).softmax(-1);
        if (options.TopP < 1.0)
        {
            var (sorted, order) = probs.sort(descending: true);
            var outside = (sorted.cumsum(0) - sorted) > options.TopP;   // keep the smallest prefix reaching top_p
            sorted = sorted.masked_fill(outside, 0);
            probs = zeros_like(probs).scatter(0, order, sorted);
        }
        return (int)multinomial(probs / probs.sum(), 1, generator: generator).item<long>();
    }
}
