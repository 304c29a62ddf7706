namespace FcTrain.Tests.Training;

/// <summary>
/// Tests that seed and replay torch's process-wide default generator (dropout has no generator argument)
/// run one at a time: xunit runs test classes in parallel, and another class drawing from the same
/// generator in between would change the masks.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchRngCollection
{
    public const string Name = "torch default generator";
}
