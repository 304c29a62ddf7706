using FcTrain.Data;

namespace FcTrain.Tests.Evaluation;

/// <summary>The sample datasets of the repository, loaded once (real files, real validation).</summary>
internal static class SampleData
{
    private static readonly Lazy<IReadOnlyList<Dataset>> Loaded = new(() =>
    {
        LoadResult result = DatasetLoader.Load(RepoPaths.Root, []);
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Datasets;
    });

    public static IReadOnlyList<Dataset> Datasets => Loaded.Value;

    public static Dataset Named(string name) => Datasets.Single(d => d.Manifest.Name == name);
}
