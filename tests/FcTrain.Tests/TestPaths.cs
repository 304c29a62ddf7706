namespace FcTrain.Tests;

/// <summary>Where tests find the repository and their data.</summary>
internal static class TestPaths
{
    /// <summary>The repository root: the first folder above the test assembly holding fctrain.slnx.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>TestData/ as copied next to the test assembly.</summary>
    public static string TestData { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "fctrain.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"no fctrain.slnx above {AppContext.BaseDirectory}");
    }
}
