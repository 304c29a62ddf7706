using FcTrain.Settings;
using FcTrain.Data;
using FcTrain.Generation;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Evaluation;

/// <summary>A generated model turn, and how sure greedy decoding was of it.</summary>
/// <param name="MinMargin">
/// The smallest gap, over the turn's greedy choices (its stop token included), between the chosen token's logit
/// and the runner-up's. A large margin means the turn cannot flip between machines through float rounding;
/// null for recorded outputs.
/// </param>
public sealed record GeneratedTurn(string Text, double? MinMargin = null);

/// <summary>
/// The model under evaluation: base model (tiny, a folder, a Hub id) plus an optional PEFT adapter, with the
/// tokenizer it was trained with. Each case: prompt ids (<see cref="EvalPrompt"/>), greedy generation with the
/// KV cache (<see cref="TextGenerator"/>), decoding with the tool markup kept (<see cref="TurnDecoder"/>).
/// </summary>
public sealed class EvalModel : IDisposable
{
    private readonly ModelSession _session;
    private readonly Gemma2ForCausalLM _model;
    private readonly GemmaTokenizer _tokenizer;
    private readonly GenerationOptions _generation;

    private EvalModel(ModelSession session, int maxNewTokens)
    {
        _session = session;
        _model = session.Model;
        _tokenizer = session.Tokenizer;
        _generation = new GenerationOptions(MaxNewTokens: maxNewTokens);   // temperature 0: greedy
    }

    /// <summary>
    /// Opens the model session of <paramref name="options"/>; the datasets' template says how tool markup maps onto ids.
    /// An adapter trained by fctrain must be evaluated with the tokenizer its shards were made with.
    /// </summary>
    public static EvalModel Load(EvalOptions options, IReadOnlyList<Dataset> datasets, Action<string> log)
    {
        var mode = ToolTokens.ParseMode(datasets.Select(d => d.Manifest.Template.ToolTokens).FirstOrDefault() ?? "reserved");
        var session = ModelSession.Open(options.Settings, options.Adapter, mode, log);
        try
        {
            session.RequireVocabulary();
            if (session.AdapterShardManifest() is { } trainedOn) session.CheckTokenizer(trainedOn, Path.Combine(session.Adapter!, "fctrain-run.json"));
        }
        catch
        {
            session.Dispose();
            throw;
        }
        log($"fctrain: model {session.Resolved.Name} on {session.Device.type.ToString().ToLowerInvariant()}{(options.Adapter is null ? "" : " with adapter " + options.Adapter)}, tokenizer {session.Tokenizer.Source}");
        return new EvalModel(session, options.Settings.MaxNewTokens);
    }

    public GeneratedTurn Generate(EvalCase c)
    {
        int[] prompt = EvalPrompt.Encode(c, _tokenizer);
        List<int> generated = TextGenerator.Generate(_model, prompt, _generation);
        return new GeneratedTurn(TurnDecoder.Decode(_tokenizer, generated), MinMargin(prompt, generated));
    }

    /// <summary>
    /// Re-runs prompt + turn in one forward pass (no cache) and takes, at every position that chose a token of the
    /// turn or its stop token, the gap between the two largest logits.
    /// </summary>
    private double MinMargin(int[] prompt, List<int> generated)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        long[] sequence = prompt.Concat(generated).Select(i => (long)i).ToArray();
        var ids = tensor(sequence).unsqueeze(0).to(_model.Device);                                          // (1, T)
        var positions = arange(0, sequence.Length, ScalarType.Int64, _model.Device).unsqueeze(0);           // (1, T)
        var hidden = _model.Hidden(ids, positions);                                                         // (1, T, C)
        // Positions prompt-1 .. T-1 predicted the generated tokens and then the stop (or the token limit).
        var chosen = hidden[0, TensorIndex.Slice(prompt.Length - 1)];                                       // (G+1, C)
        var logits = _model.Logits(chosen).to(ScalarType.Float32);                                          // (G+1, V)
        var top2 = logits.topk(2, dim: -1).values;                                                          // (G+1, 2)
        return (top2[.., 0] - top2[.., 1]).min().item<float>();
    }

    public void Dispose() => _session.Dispose();
}
