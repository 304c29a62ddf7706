using System.Text.RegularExpressions;

namespace FcTrain.Tests.Build;

/// <summary>
/// FcTrain.Sdk's files (build/Sdk) run for real, as this repository's datasets/ uses them: a datasets project in
/// a subfolder of a temporary workspace, with the built task and CLI. The error lines must be what CI turns
/// into pull-request annotations.
/// </summary>
public sealed class SdkTargetsTests : IDisposable
{
    /// <summary>actions/setup-dotnet's problem matcher (.github/csc.json): file, line, column, severity, code, message, project.</summary>
    public static readonly Regex ProblemMatcher = new(
        @"^\s*(?:\d+>\s*)?([^\s].*)\((\d+)(?:,(\d+))?(?:,\d+)*\):\s+(error|warning)\s+([a-zA-Z]+(?<!MSB)\d*):\s*(.*?)\s+\[(.*?)\]$");

    private readonly string _repo = Directory.CreateTempSubdirectory("fctrain-sdk-").FullName;
    private string Project => Path.Combine(_repo, "datasets", "datasets.csproj");

    public SdkTargetsTests()
    {
        PipelineTargetsTests.CopyDirectory(Path.Combine(RepoPaths.Root, "datasets"), Path.Combine(_repo, "datasets"));
        File.Delete(Project);
        WriteProject("");
    }

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    private void WriteProject(string body) => File.WriteAllText(Project, $"""
        <Project>
          <PropertyGroup>
            <FcTrainRepoRoot>{_repo}/</FcTrainRepoRoot>
            <FcTrainToolAssembly>{RepoPaths.CliAssembly}</FcTrainToolAssembly>
            <FcTrainTaskAssembly>{RepoPaths.TaskAssembly}</FcTrainTaskAssembly>
          </PropertyGroup>
          <Import Project="{RepoPaths.Root}/build/Sdk/Sdk.props" />
          {body}
          <Import Project="{RepoPaths.Root}/build/Sdk/Sdk.targets" />
        </Project>
        """);

    [Fact]
    public void Errors_are_problem_matcher_lines_whose_paths_resolve_from_the_project_folder()
    {
        string file = Directory.EnumerateFiles(Path.Combine(_repo, "datasets/weather/conversations"), "*.json").Order().First();
        string text = File.ReadAllText(file);
        File.WriteAllText(file, text.Insert(text.IndexOf('{') + 1, "\n  \"bogus_property\": 1,"));

        var result = Build();

        Assert.NotEqual(0, result.ExitCode);
        var matches = result.Output.Split('\n').Select(l => ProblemMatcher.Match(l.TrimEnd('\r'))).Where(m => m.Success).ToList();
        var ours = matches.Where(m => m.Groups[5].Value.StartsWith("FCT", StringComparison.Ordinal)).ToList();
        Assert.True(ours.Count > 0, result.Output);
        foreach (var m in ours)
        {
            Assert.Equal("error", m.Groups[4].Value);
            Assert.Equal(Project, m.Groups[7].Value);
            // The matcher resolves a relative path against the project file's folder.
            string resolved = Path.GetFullPath(m.Groups[1].Value, Path.GetDirectoryName(Project)!);
            Assert.True(File.Exists(resolved), $"{resolved} (from: {m.Value})");
        }
        Assert.Contains(ours, m => Path.GetFullPath(m.Groups[1].Value, Path.GetDirectoryName(Project)!) == file
            && m.Groups[2].Value == "2" && m.Groups[6].Value.Contains("bogus_property"));
    }

    [Fact]
    public void A_missing_dataset_item_is_an_error_naming_it_and_no_dataset_is_a_warning()
    {
        WriteProject("""<ItemGroup><FcTrainDataset Include="nothing/here/dataset.json" /></ItemGroup>""");
        var missing = Build();
        Assert.NotEqual(0, missing.ExitCode);
        Assert.Matches(new Regex(Regex.Escape(Project) + @" : error FCT0017: FcTrainDataset 'nothing/here/dataset.json' does not exist"), missing.Output);

        WriteProject("""<PropertyGroup><EnableDefaultFcTrainDatasetItems>false</EnableDefaultFcTrainDatasetItems></PropertyGroup>""");
        var none = Build();
        Assert.True(none.ExitCode == 0, none.Output);
        Assert.Matches(new Regex(Regex.Escape(Project) + @" : warning FCT0702: no datasets"), none.Output);
        Assert.DoesNotContain("fctrain validate:", none.Output);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void FcTrainBase_checks_versions_in_the_build_with_problem_matcher_lines()
    {
        foreach (string[] args in new[] { new[] { "init", "-q", "-b", "main" }, ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@fctrain.local", "commit", "-q", "-m", "base"] })
            Assert.Equal(0, CliRunner.RunProgram("git", args, _repo).ExitCode);
        string conversations = Path.Combine(_repo, "datasets/weather/conversations");
        string copy = File.ReadAllText(Directory.EnumerateFiles(conversations, "*.json").Order().First());
        File.WriteAllText(Path.Combine(conversations, "weather-900.json"), System.Text.RegularExpressions.Regex.Replace(copy, "\"id\": \"[^\"]+\"", "\"id\": \"weather-900\""));

        var plain = Build();
        var versioned = Build("-p:FcTrainBase=main");
        var unknown = Build("-p:FcTrainBase=no-such-branch");

        Assert.True(plain.ExitCode == 0, plain.Output);
        Assert.NotEqual(0, versioned.ExitCode);
        // MSBuild prints each error twice (where it happens, then in the summary): one line, one annotation.
        var m = Assert.Single(versioned.Output.Split('\n').Select(l => ProblemMatcher.Match(l.TrimEnd('\r')))
            .Where(x => x.Success && x.Groups[5].Value == "FCT0703").DistinctBy(x => (x.Groups[1].Value, x.Groups[2].Value, x.Groups[3].Value, x.Groups[6].Value)));
        string manifest = Path.Combine(_repo, "datasets/weather/dataset.json");
        var lines = File.ReadAllLines(manifest);
        int line = Array.FindIndex(lines, l => l.Contains("\"version\"", StringComparison.Ordinal));
        Assert.Equal(manifest, Path.GetFullPath(m.Groups[1].Value, Path.GetDirectoryName(Project)!));
        Assert.Equal(((line + 1).ToString(), (lines[line].IndexOf("\"1.0.0\"", StringComparison.Ordinal) + 1).ToString()), (m.Groups[2].Value, m.Groups[3].Value));
        Assert.Equal(("error", Project), (m.Groups[4].Value, m.Groups[7].Value));
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("FCT0706", unknown.Output);
    }

    private (int ExitCode, string Output) Build(params string[] properties) => CliRunner.Dotnet(_repo, ["build", Project, .. properties]);
}
