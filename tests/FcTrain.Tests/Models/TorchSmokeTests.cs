using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

public class TorchSmokeTests
{
    [Fact]
    public void Libtorch_loads_and_computes()
    {
        using var scope = NewDisposeScope();
        var x = arange(6, dtype: float32).reshape(2, 3);
        Assert.Equal(83f, x.matmul(x.T).sum().item<float>(), 3); // [[5,14],[14,50]]
    }
}
