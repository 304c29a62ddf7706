using FcTrain.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

[Collection(TorchRngCollection.Name)]
public class GradientCheckpointTests
{
    // A frozen weight plus a trainable low-rank update with dropout: the shape of a LoRA layer.
    static (Tensor Loss, Tensor[] Grads) Run(bool checkpoint, bool inputRequiresGrad)
    {
        random.manual_seed(7);
        var w = randn(16, 16, dtype: float64);
        var a = randn(4, 16, dtype: float64).requires_grad_();
        var b = randn(16, 4, dtype: float64).requires_grad_();
        var x = randn(3, 5, 16, dtype: float64).requires_grad_(inputRequiresGrad);
        Tensor Block(Tensor h) => nn.functional.gelu(h.matmul(w) + nn.functional.dropout(h, 0.5, training: true).matmul(a.T).matmul(b.T));
        random.manual_seed(11);
        var h1 = checkpoint ? GradientCheckpoint.Run(Block, x, [a, b]) : Block(x);
        var h2 = checkpoint ? GradientCheckpoint.Run(Block, h1, [a, b]) : Block(h1);
        var loss = h2.pow(2).mean();
        loss.backward();
        var grads = new List<Tensor> { a.grad!.clone(), b.grad!.clone() };
        if (inputRequiresGrad) grads.Add(x.grad!.clone());
        return (loss.detach(), grads.ToArray());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gradients_equal_the_plain_backward_including_dropout(bool inputRequiresGrad)
    {
        using var scope = NewDisposeScope();
        var (plainLoss, plain) = Run(checkpoint: false, inputRequiresGrad);
        var (ckptLoss, ckpt) = Run(checkpoint: true, inputRequiresGrad);
        Assert.Equal(plainLoss.item<double>(), ckptLoss.item<double>(), 12);
        Assert.Equal(plain.Length, ckpt.Length);
        for (int i = 0; i < plain.Length; i++)
            Assert.True(allclose(plain[i], ckpt[i], rtol: 1e-12, atol: 1e-12), $"gradient {i} differs");
    }
}
