using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models.Gemma2;

public class LossTests
{
    [Fact]
    public void Next_token_loss_shifts_labels_and_ignores_minus_100()
    {
        using var scope = NewDisposeScope();
        // Uniform logits over 4 tokens: every labelled position costs ln 4; -100 positions cost nothing.
        var logits = zeros(1, 3, 4);
        var labels = tensor(new long[] { 5, -100, 2 }).reshape(1, 3);   // label[0] is never predicted
        Assert.Equal(Math.Log(4), Loss.NextToken(logits, labels), 6);
    }
}
