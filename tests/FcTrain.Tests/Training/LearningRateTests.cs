using FcTrain.Training;

namespace FcTrain.Tests.Training;

public class LearningRateTests
{
    [Fact]
    public void Warmup_is_ceil_of_ratio_like_trl()
    {
        Assert.Equal(3, LearningRate.Cosine(1e-4, 25, 0.1).WarmupSteps); // ceil(2.5)
        Assert.Equal(0, LearningRate.Cosine(1e-4, 25, 0.0).WarmupSteps);
    }

    [Fact]
    public void Matches_transformers_cosine_with_warmup()
    {
        // lr_lambda of transformers.get_cosine_schedule_with_warmup(opt, num_warmup_steps=2, num_training_steps=10),
        // evaluated in CPython (math.cos) for steps 0..10 with lr 1.0.
        double[] expected = [0.0, 0.5, 1.0, 0.9619397662556434, 0.8535533905932737, 0.6913417161825449, 0.5,
                             0.30865828381745514, 0.14644660940672627, 0.03806023374435663, 0.0];
        var schedule = new LearningRate(1.0, 10, 2);
        for (int step = 0; step < expected.Length; step++)
            Assert.Equal(expected[step], schedule.At(step), 12);
    }

    [Fact]
    public void Peaks_after_warmup_and_never_goes_negative()
    {
        var schedule = LearningRate.Cosine(2e-4, 100, 0.1);
        Assert.Equal(2e-4, schedule.At(10), 15);
        Assert.All(Enumerable.Range(0, 120), s => Assert.InRange(schedule.At(s), 0.0, 2e-4));
        Assert.True(schedule.At(50) > schedule.At(90));
    }
}
