using FcTrain.Diagnostics;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>How well a model predicts each next token of a sequence.</summary>
/// <param name="Loss">Mean negative log-probability of the scored next tokens; null when none is scored (a single id).</param>
/// <param name="LogProbs">log p(ids[t+1] | ids[..t]) for every t (T-1 values), transitions between documents included.</param>
public sealed record NextTokenScores(double? Loss, float[] LogProbs, int Scored);

/// <summary>
/// The model's next-token loss on given ids: how anyone compares fctrain with another implementation of Gemma-2
/// (<c>fctrain score</c>). Packed rows give document ids; a transition into the next document is not a prediction
/// the model was asked to make, so it is left out of the loss (as training does).
/// </summary>
public static class NextTokenScorer
{
    public const string BadIds = "FCT0217";

    /// <summary>Scores <paramref name="ids"/>; the float32 logits (T, V) are returned too, in the caller's dispose scope.</summary>
    public static (NextTokenScores Scores, Tensor Logits) Score(Gemma2ForCausalLM model, long[] ids, long[] positions, long[]? documents)
    {
        if (ids.Length == 0) throw FcTrainException.Usage(BadIds, "--input-ids is empty: give at least one token id.");
        if (positions.Length != ids.Length || (documents is not null && documents.Length != ids.Length))
            throw FcTrainException.Usage(BadIds, "--position-ids and --document-ids need one value per input id.");
        int outside = Array.FindIndex(ids, i => i < 0 || i >= model.Config.VocabSize);
        if (outside >= 0)
            throw FcTrainException.Error(BadIds, $"--input-ids holds {ids[outside]}, outside the vocabulary of the model (0..{model.Config.VocabSize - 1}).");

        model.eval();
        using var _ = no_grad();
        Device device = model.Device;
        Tensor Row(long[] values) => tensor(values).unsqueeze(0).to(device);                                          // (1, T)
        var logits = model.forward(Row(ids), Row(positions), documents is null ? null : Row(documents))[0].to(ScalarType.Float32); // (T, V)
        if (ids.Length == 1) return (new NextTokenScores(null, [], 0), logits);

        var next = tensor(ids[1..]).to(device);                                                                        // (T-1)
        var picked = logits[..^1].log_softmax(-1).gather(1, next.unsqueeze(1)).squeeze(1).cpu();                      // (T-1)
        float[] logProbs = picked.data<float>().ToArray();
        var scored = Enumerable.Range(0, ids.Length - 1).Where(t => documents is null || documents[t] == documents[t + 1]).ToList();
        double? loss = scored.Count == 0 ? null : -scored.Average(t => (double)logProbs[t]);
        return (new NextTokenScores(loss, logProbs, scored.Count), logits);
    }
}
