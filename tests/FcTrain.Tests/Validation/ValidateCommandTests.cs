namespace FcTrain.Tests.Validation;

/// <summary><c>fctrain validate</c> run as a process, from a repository root, as MSBuild and users run it.</summary>
public sealed class ValidateCommandTests : IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("fctrain-validate-").FullName;

    public ValidateCommandTests()
    {
        ValidationFixtureTests.CopyDirectory(Path.Combine(RepoPaths.Root, "schemas"), Path.Combine(_repo, "schemas"));
        ValidationFixtureTests.CopyDirectory(Path.Combine(RepoPaths.Root, "datasets"), Path.Combine(_repo, "datasets"));
    }

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    [Fact]
    public void Clean_samples_exit_0_with_a_summary_and_write_the_result_file()
    {
        var (exit, output) = Run("validate", "--result-file", "obj/validate.txt");

        Assert.Equal(0, exit);
        Assert.Matches(@"^fctrain validate: 4 dataset\(s\), 15 function\(s\), 66 conversation\(s\) \(52 train, 14 eval\): 0 error\(s\), 0 warning\(s\)\.\s*$", output);
        Assert.Equal(_repo, File.ReadAllText(Path.Combine(_repo, "obj/validate.txt")).Trim());
    }

    [Fact]
    public void Errors_exit_1_after_printing_every_diagnostic_canonically()
    {
        string file = Path.Combine(_repo, "datasets/weather/conversations/weather-001.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"Paris, FR\"", "42"));
        string manifest = Path.Combine(_repo, "datasets/travel/dataset.json");
        File.WriteAllText(manifest, File.ReadAllText(manifest).Replace("\"1.0.0\"", "\"1.0\""));

        var (exit, output) = Run("validate");

        Assert.Equal(1, exit);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("datasets/travel/dataset.json(4,14): error FCT0005: /version: ", lines[0]);
        Assert.StartsWith("datasets/weather/conversations/weather-001.json(25,25): error FCT0015: /messages/1/tool_calls/0/arguments/location: ", lines[1]);
        Assert.Contains("3 dataset(s)", lines[2]);
        Assert.Contains("2 error(s)", lines[2]);
    }

    [Fact]
    public void Named_paths_validate_only_their_datasets()
    {
        var (exit, output) = Run("validate", "datasets/shop", "datasets/travel/dataset.json");

        Assert.Equal(0, exit);
        Assert.Contains("2 dataset(s)", output);
    }

    [Theory]
    [InlineData("validate", "datasets/nope")]
    [InlineData("validate", "--bogus")]
    public void Usage_mistakes_exit_2(params string[] args)
    {
        var (exit, _) = Run(args);

        Assert.Equal(2, exit);
    }

    private (int ExitCode, string Output) Run(params string[] args)
    {
        var (exit, stdout, stderr) = CliRunner.Run(_repo, args);
        return (exit, stdout + stderr);
    }
}
