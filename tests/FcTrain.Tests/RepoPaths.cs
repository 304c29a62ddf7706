namespace FcTrain.Tests;

/// <summary>Paths of the repository and of its built outputs, found from the test assembly's folder.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    /// <summary>TestData/ as copied next to the test assembly.</summary>
    public static string TestData { get; } = Path.Combine(AppContext.BaseDirectory, "TestData");

    /// <summary>Debug or Release: the configuration this test assembly was built in.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Replace('\\', '/').Contains("/bin/Release/") ? "Release" : "Debug";

    public static string CliAssembly =>
        Path.Combine(Root, "tools/dotnet-fctrain/bin", Configuration, "net10.0/linux-x64/dotnet-fctrain.dll");

    public static string TaskAssembly =>
        Path.Combine(Root, "src/FcTrain.Build/bin", Configuration, "net10.0/FcTrain.Build.dll");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "fctrain.slnx"))) return dir.FullName;
        throw new InvalidOperationException("fctrain.slnx not found above " + AppContext.BaseDirectory);
    }
}
