using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Settings;
using FcTrain.Tokenization;
using FcTrain.Tests.Models.Gemma2;
using FcTrain.Training;
using static TorchSharp.torch;

namespace FcTrain.Tests.Training;

/// <summary>
/// The fused head loss (linear + soft-cap + cross-entropy without logits) against libtorch's path through
/// <see cref="Gemma2ForCausalLM.Logits"/> and cross_entropy: the same loss, statistics and gradients.
/// </summary>
public class HeadCrossEntropyTests
{
    const double Tolerance = 1e-5;   // relative: to the loss, and to each gradient's largest element

    [Theory]
    [InlineData(1)]
    [InlineData(13)]    // 8 + 4 + 1 rows: every kernel height
    [InlineData(45)]    // two blocks of 32 rows in the transposed gradient
    public void Loss_statistics_and_gradients_equal_libtorchs_head_soft_cap_and_cross_entropy(int rows)
    {
        using var scope = NewDisposeScope();
        using var model = TinyF32WithHeadAdapter(live: true);
        Assert.NotNull(model.Config.FinalLogitSoftcapping);
        var hidden = randn(rows, model.Config.HiddenSize, generator: new Generator(7));
        var ids = randint(model.Config.VocabSize, [rows], generator: new Generator(8)).data<long>().ToArray();
        ids[0] = Argmax(model, hidden[0]);   // one position the head predicts: its margin is positive
        var labels = tensor(ids);
        using var fused = HeadCrossEntropy.For(model);
        Assert.NotNull(fused);

        var expected = Reference(model.LmHead, model.Logits, hidden, labels);
        var actual = Fused(model.LmHead, fused, hidden, labels);

        AssertClose(expected, actual);
        Assert.True(actual.Correct >= 1);
    }

    [Fact]
    public void On_the_embedded_tiny_models_256k_vocabulary_with_the_courses_adapter()
    {
        using var scope = NewDisposeScope();
        using var session = ModelSession.Open(new FcTrainSettings { Device = "cpu", Dtype = "float32" }, adapter: null, ToolTokenMode.Reserved, _ => { });
        var model = session.Model;
        model.ApplyLora(new LoraSettings { Dropout = 0 }.ToConfig());   // r=16 on every projection and the head
        using (no_grad()) nn.init.normal_(model.LmHead.LoraB!.weight!, std: 0.02);
        var hidden = randn(40, model.Config.HiddenSize, generator: new Generator(21));
        var labels = randint(model.Config.VocabSize, [40], generator: new Generator(22));
        using var fused = HeadCrossEntropy.For(model);
        Assert.NotNull(fused);

        AssertClose(Reference(model.LmHead, model.Logits, hidden, labels), Fused(model.LmHead, fused, hidden, labels));
    }

    [Theory]
    [InlineData(null)]
    [InlineData(30.0)]
    public void A_vocabulary_that_ends_in_a_partial_panel_and_a_head_without_an_adapter(double? cap)
    {
        using var scope = NewDisposeScope();
        var head = new LoraLinear("lm_head", 40, 1000, ScalarType.Float32, CPU);   // 1000 = 31 panels + 8 ids
        using (no_grad()) head.Weight.normal_(0, 1, generator: new Generator(3));
        Tensor Logits(Tensor h)
        {
            var logits = head.forward(h);
            return cap is double c ? (logits / c).tanh() * c : logits;
        }
        var hidden = randn(21, 40, generator: new Generator(4));
        var ids = randint(1000, [21], generator: new Generator(5)).data<long>().ToArray();
        ids[3] = 999;   // the last id, in the partial panel
        var labels = tensor(ids);
        using var fused = new HeadCrossEntropy(head, cap);

        var expected = Reference(head, Logits, hidden, labels);
        var actual = Fused(head, fused, hidden, labels);

        AssertClose(expected, actual);
        Assert.Null(actual.LoraA);
    }

    [Fact]
    public void Without_autograd_it_gives_the_same_loss_and_statistics_and_no_gradient()
    {
        using var scope = NewDisposeScope();
        using var model = TinyF32WithHeadAdapter(live: true);
        var hidden = randn(9, model.Config.HiddenSize, generator: new Generator(11));
        var labels = randint(model.Config.VocabSize, [9], generator: new Generator(12));
        using var fused = HeadCrossEntropy.For(model)!;

        var withGradients = Fused(model.LmHead, fused, hidden, labels);
        var x = hidden.clone().requires_grad_(true);
        TokenScores scores;
        using (no_grad()) scores = fused.Score(x, labels);

        Assert.Equal(withGradients.Loss, scores.Sum.item<float>());
        Assert.Equal(withGradients.Correct, scores.Correct.item<long>());
        Assert.Equal(withGradients.MinMargin, scores.MinMargin.item<float>());
        Assert.False(scores.Sum.requires_grad);
        Assert.Null(x.grad);
    }

    [Fact]
    public void The_adapter_is_read_as_it_is_at_each_call()
    {
        using var scope = NewDisposeScope();
        using var model = TinyF32WithHeadAdapter(live: false);
        var hidden = randn(5, model.Config.HiddenSize, generator: new Generator(13));
        var labels = randint(model.Config.VocabSize, [5], generator: new Generator(14));
        using var fused = HeadCrossEntropy.For(model)!;
        float before = Fused(model.LmHead, fused, hidden, labels).Loss;

        LiveAdapter(model);   // as an optimizer step would change it

        var expected = Reference(model.LmHead, model.Logits, hidden, labels);
        var actual = Fused(model.LmHead, fused, hidden, labels);
        AssertClose(expected, actual);
        Assert.NotEqual(before, actual.Loss);
    }

    /// <summary>The conformance model (vocabulary 384, hidden 48, soft-cap 3) with an r=4 adapter on the head, without
    /// dropout; <paramref name="live"/>: B drawn at random instead of PEFT's zeros, so the adapter changes the logits.</summary>
    static Gemma2ForCausalLM TinyF32WithHeadAdapter(bool live)
    {
        var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        model.ApplyLora(new LoraConfig(4, 8, 0.0, ["lm_head"]));
        if (live) LiveAdapter(model);
        return model;
    }

    static void LiveAdapter(Gemma2ForCausalLM model)
    {
        using (no_grad()) nn.init.normal_(model.LmHead.LoraB!.weight!, std: 0.5);
    }

    sealed record Outcome(float Loss, long Correct, float MinMargin, Tensor HiddenGrad, Tensor? LoraA, Tensor? LoraB);

    /// <summary>libtorch's path: (N, V) logits, cross_entropy, backward of the loss over 7 (an upstream gradient that is not 1).</summary>
    static Outcome Reference(LoraLinear head, Func<Tensor, Tensor> logitsOf, Tensor hidden, Tensor labels)
    {
        ZeroGrad(head);
        var x = hidden.clone().requires_grad_(true);
        var logits = logitsOf(x);
        var loss = nn.functional.cross_entropy(logits, labels, reduction: nn.Reduction.Sum);
        (loss / 7).backward();
        using var noGrad = no_grad();
        var gold = logits.gather(1, labels.unsqueeze(1)).squeeze(1);
        var rival = logits.scatter(1, labels.unsqueeze(1), full(labels.shape[0], 1, float.NegativeInfinity)).amax(1);
        var margin = gold - rival;
        return new Outcome(loss.item<float>(), margin.gt(0).sum().item<long>(), margin.min().item<float>(), x.grad!.clone(),
            head.LoraA?.weight!.grad?.clone(), head.LoraB?.weight!.grad?.clone());
    }

    static Outcome Fused(LoraLinear head, HeadCrossEntropy fused, Tensor hidden, Tensor labels)
    {
        ZeroGrad(head);
        var x = hidden.clone().requires_grad_(true);
        var scores = fused.Score(x, labels);
        Assert.Equal(labels.shape[0], scores.Count);
        (scores.Sum / 7).backward();
        return new Outcome(scores.Sum.item<float>(), scores.Correct.item<long>(), scores.MinMargin.item<float>(), x.grad!.clone(),
            head.LoraA?.weight!.grad?.clone(), head.LoraB?.weight!.grad?.clone());
    }

    static void AssertClose(Outcome expected, Outcome actual)
    {
        Assert.InRange(actual.Loss, expected.Loss - Tolerance * Math.Abs(expected.Loss), expected.Loss + Tolerance * Math.Abs(expected.Loss));
        Assert.Equal(expected.Correct, actual.Correct);
        Assert.InRange(actual.MinMargin, expected.MinMargin - 1e-4, expected.MinMargin + 1e-4);
        AssertGradient("hidden", expected.HiddenGrad, actual.HiddenGrad);
        Assert.Equal(expected.LoraA is null, actual.LoraA is null);
        if (expected.LoraA is not null) AssertGradient("lora_A", expected.LoraA, actual.LoraA!);
        if (expected.LoraB is not null) AssertGradient("lora_B", expected.LoraB, actual.LoraB!);
    }

    static void AssertGradient(string name, Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.shape, actual.shape);
        double largest = expected.abs().max().item<float>();
        Assert.True(largest > 0, $"{name}: the reference gradient is zero, so the test would compare nothing");
        double diff = (actual - expected).abs().max().item<float>() / largest;
        Assert.True(diff <= Tolerance * 10, $"{name}: max |diff| / max |grad| = {diff:E2}");
    }

    static void ZeroGrad(LoraLinear head) => head.zero_grad();

    static long Argmax(Gemma2ForCausalLM model, Tensor h)
    {
        using var noGrad = no_grad();
        return model.Logits(h.unsqueeze(0)).argmax(-1).item<long>();
    }
}
