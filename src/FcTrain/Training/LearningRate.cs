namespace FcTrain.Training;

/// <summary>
/// Linear warmup then half-cosine decay to zero: transformers' <c>get_cosine_schedule_with_warmup</c>
/// (num_cycles = 0.5) with TRL's <c>warmup_steps = ceil(warmup_ratio · total_steps)</c>.
/// </summary>
public sealed record LearningRate(double Peak, int TotalSteps, int WarmupSteps)
{
    public static LearningRate Cosine(double peak, int totalSteps, double warmupRatio) =>
        new(peak, totalSteps, (int)Math.Ceiling(totalSteps * warmupRatio));

    /// <summary>
    /// The rate used by optimizer step <paramref name="step"/> (0-based). As in the transformers Trainer the
    /// scheduler advances after each optimizer step, so step 0 runs at 0 when there is warmup.
    /// </summary>
    public double At(int step)
    {
        if (step < WarmupSteps) return Peak * step / Math.Max(1, WarmupSteps);
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return Peak * Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }
}
