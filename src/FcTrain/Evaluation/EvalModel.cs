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
/// and the runner-up's (<see cref="Generated.MinMargin"/>). A large margin means the turn cannot flip between
/// machines through float rounding; null for recorded outputs.
/// </param>
public sealed record GeneratedTurn(string Text, double? MinMargin = null);

/// <summary>
/// The model under evaluation: base model (tiny, a folder, a Hub id) plus an optional PEFT adapter, with the
/// tokenizer it was trained with. Each case: prompt ids (<see cref="EvalPrompt"/>), greedy generation with the
/// KV cache (<see cref="TextGenerator"/>, <see cref="FcTrainSettings.EvalBatchSize"/> cases at once), decoding with
/// the tool markup kept (<see cref="TurnDecoder"/>).
/// </summary>
public sealed class EvalModel : IDisposable
{
    private readonly ModelSession _session;
    private readonly Gemma2ForCausalLM _model;
    private readonly GemmaTokenizer _tokenizer;
    private readonly GenerationOptions _generation;
    private readonly int _batchSize;
    private readonly GreedyHead? _head;   // the fused head, packed once for every batch (null where it does not apply)

    private EvalModel(ModelSession session, int maxNewTokens, int batchSize)
    {
        _session = session;
        _model = session.Model;
        _tokenizer = session.Tokenizer;
        _generation = new GenerationOptions(MaxNewTokens: maxNewTokens);   // temperature 0: greedy
        _batchSize = batchSize;
        _head = GreedyHead.For(_model);
    }

    /// <summary>
    /// Opens the model session of <paramref name="options"/>; the datasets' template says how tool markup maps onto ids.
    /// An adapter trained by fctrain must be evaluated with the tokenizer its shards were made with.
    /// </summary>
    public static EvalModel Load(EvalOptions options, IReadOnlyList<Dataset> datasets, Action<string> log)
    {
        NativeMemory.KeepFreedMemoryForReuse();   // a prefill's buffers, reused by the next prompt's
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
        return new EvalModel(session, options.Settings.MaxNewTokens, options.Settings.EvalBatchSize);
    }

    /// <summary>
    /// The model's turn for every case, in the order given. Cases of similar prompt length share a batch (little of
    /// the prefill is padding), in batches as even as <see cref="FcTrainSettings.EvalBatchSize"/> allows.
    /// </summary>
    public IReadOnlyList<GeneratedTurn> Generate(IReadOnlyList<EvalCase> cases, Action<string>? log = null)
    {
        var prompts = cases.Select(c => (IReadOnlyList<int>)EvalPrompt.Encode(c, _tokenizer)).ToList();
        var order = Enumerable.Range(0, cases.Count).OrderBy(i => prompts[i].Count).ToList();
        var turns = new GeneratedTurn[cases.Count];
        int batches = (cases.Count + _batchSize - 1) / _batchSize;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int k = 0; k < batches; k++)
        {
            int from = k * cases.Count / batches, to = (k + 1) * cases.Count / batches;
            var batch = order.GetRange(from, to - from);
            var generated = TextGenerator.GenerateBatch(_model, [.. batch.Select(i => prompts[i])], _generation, _head);
            for (int j = 0; j < batch.Count; j++)
                turns[batch[j]] = new GeneratedTurn(TurnDecoder.Decode(_tokenizer, generated[j].Ids),
                    float.IsPositiveInfinity(generated[j].MinMargin) ? null : generated[j].MinMargin);
            log?.Invoke($"fctrain: generated {to}/{cases.Count} case(s), {generated.Sum(g => g.Ids.Count)} tokens in this batch of {batch.Count}, {clock.Elapsed.TotalSeconds:0.0}s");
        }
        return turns;
    }

    public void Dispose()
    {
        _head?.Dispose();
        _session.Dispose();
    }
}
