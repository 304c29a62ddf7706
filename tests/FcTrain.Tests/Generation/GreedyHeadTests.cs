using FcTrain.Generation;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Generation;

/// <summary>The fused head (product and greedy choice in one pass, no logits written) against the tensor path.</summary>
public class GreedyHeadTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]    // the one-row kernel only
    [InlineData(13)]   // 8 + 4 + 1: every kernel
    [InlineData(64)]
    public void The_choice_and_margin_equal_the_argmax_and_top_two_of_the_capped_logits_and_the_tensor_path(int rows)
    {
        using var scope = NewDisposeScope();
        using var model = ModelLoader.Load(ConformanceTests.Golden.Folder("tiny-f32"), ScalarType.Float32, CPU);
        model.ApplyLora(new LoraConfig(4, 8, 0.0, ["lm_head"]));
        using (no_grad()) nn.init.normal_(model.LmHead.LoraB!.weight!, std: 0.5);   // a live adapter: B starts at zero
        model.eval();
        var hidden = randn(rows, model.Config.HiddenSize, generator: new Generator(7));

        using var head = new GreedyHead(model.LmHead.Weight, model.LmHead.LoraA!.weight, model.LmHead.LoraB!.weight, model.LmHead.Scaling, model.Config.FinalLogitSoftcapping);
        var (chosen, margin) = head.Choose(hidden);

        using var _ = no_grad();
        var (top, index) = model.Logits(hidden).topk(2, dim: -1);   // capped, with the adapter
        Assert.Equal(index[.., 0].data<long>().Select(i => (int)i), chosen);
        var expected = (top[.., 0] - top[.., 1]).data<float>().ToArray();
        for (int r = 0; r < rows; r++) Assert.InRange(margin[r], expected[r] - 1e-5f, expected[r] + 1e-5f);
        Assert.NotNull(model.Config.FinalLogitSoftcapping);   // the cap was exercised

        var (tensorChosen, tensorMargin) = TextGenerator.Greedy(model, hidden);   // off the CPU, or without AVX-512
        Assert.Equal(chosen, tensorChosen);
        for (int r = 0; r < rows; r++) Assert.InRange(tensorMargin[r], expected[r] - 1e-5f, expected[r] + 1e-5f);
    }

    [Fact]
    public void A_row_chooses_the_same_alone_as_in_any_batch_to_the_last_bit()
    {
        using var scope = NewDisposeScope();
        var weight = randn(1000, 48, generator: new Generator(3));
        var hidden = randn(13, 48, generator: new Generator(4));
        using var head = new GreedyHead(weight, null, null, 1.0, cap: 30.0);

        var (together, togetherMargin) = head.Choose(hidden);
        for (int r = 0; r < 13; r++)
        {
            var (alone, aloneMargin) = head.Choose(hidden[r..(r + 1)]);
            Assert.Equal(together[r], alone[0]);
            Assert.Equal(togetherMargin[r], aloneMargin[0]);
        }
    }

    [Fact]
    public void The_padding_of_the_last_panel_is_never_chosen_and_ties_go_to_the_lowest_id()
    {
        using var scope = NewDisposeScope();
        // 37 ids: the second panel holds 5 ids and 27 rows of zero padding, whose logit 0 beats every real one.
        var weight = -rand(37, 16, generator: new Generator(5)) - 0.1f;
        var hidden = rand(2, 16, generator: new Generator(6)) + 0.1f;                 // every logit below zero
        weight[33] = weight[2].clone();                                               // ids 2 and 33 tie on both rows
        weight[2].mul_(0.01f);
        weight[33].mul_(0.01f);
        using var head = new GreedyHead(weight, null, null, 1.0, cap: null);

        var (chosen, margin) = head.Choose(hidden);

        Assert.Equal([2, 2], chosen);
        Assert.Equal([0f, 0f], margin);   // the runner-up is its twin
    }
    [Fact]
    public void Ids_closer_than_bfloat16_can_tell_apart_are_chosen_and_measured_as_in_float32_to_the_last_bit()
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        // 40 ids whose weights equal id 0's in bfloat16 and differ only in their float32 low bits: the screen sees 40
        // ties, and only the exact rescore can order them. The rest of a 1,000-id head is random; the adapter adds 4 inputs.
        const int Vocab = 1000, Hidden = 48, Rank = 4;
        var weight = randn(Vocab, Hidden, generator: new Generator(8)) * 0.05f;
        var twin = weight[0].to(ScalarType.BFloat16).to(ScalarType.Float32) * 4f;                        // a loud row, exact in bfloat16
        for (int id = 0; id < 40; id++) weight[id * 25] = twin + (rand(Hidden, generator: new Generator((ulong)id)) - 0.5f) * 1e-6f;
        var loraA = randn(Rank, Hidden, generator: new Generator(9));
        var loraB = randn(Vocab, Rank, generator: new Generator(10)) * 1e-3f;
        var hidden = twin.unsqueeze(0).repeat(3, 1) + randn(3, Hidden, generator: new Generator(11)) * 0.01f;   // (3, C): near the twins
        const float Scaling = 2f;
        using var head = new GreedyHead(weight, loraA, loraB, Scaling, cap: 30.0);

        var (chosen, margin) = head.Choose(hidden);

        // The reference: every id's float32 logit as one fused multiply-add after another over [h, s·(h Aᵀ)] and [W | B].
        var inputs = cat([hidden, nn.functional.linear(hidden, loraA) * Scaling], 1).data<float>().ToArray();
        var rows = cat([weight, loraB], 1).contiguous().data<float>().ToArray();
        const int K = Hidden + Rank;
        for (int r = 0; r < 3; r++)
        {
            var logits = Enumerable.Range(0, Vocab).Select(id =>
            {
                float sum = 0;
                for (int k = 0; k < K; k++) sum = MathF.FusedMultiplyAdd(rows[id * K + k], inputs[r * K + k], sum);
                return sum;
            }).ToArray();
            int best = Array.IndexOf(logits, logits.Max());
            float second = logits.Where((_, id) => id != best).Max();
            Assert.Equal(best, chosen[r]);
            Assert.Equal(MathF.Tanh(logits[best] / 30f) * 30f - MathF.Tanh(second / 30f) * 30f, margin[r]);
            Assert.Equal(0, best % 25);   // one of the twins won
        }
    }
}
