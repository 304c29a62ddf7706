using System.Text.RegularExpressions;

namespace FcTrain.Tests.Build;

/// <summary>
/// The MSBuild side of validation, run for real: build/FcTrain.Pipeline.targets with the built task and
/// CLI over a copy of the sample datasets in a temporary repository.
/// </summary>
public sealed class PipelineTargetsTests : IDisposable
{
    private readonly string _repo = Directory.CreateTempSubdirectory("fctrain-msbuild-").FullName;

    public PipelineTargetsTests()
    {
        CopyDirectory(Path.Combine(RepoPaths.Root, "schemas"), Path.Combine(_repo, "schemas"));
        CopyDirectory(Path.Combine(RepoPaths.Root, "datasets"), Path.Combine(_repo, "datasets"));
        File.WriteAllText(Path.Combine(_repo, "probe.proj"), $"""
            <Project>
              <PropertyGroup>
                <FcTrainRepoRoot>{_repo}/</FcTrainRepoRoot>
                <FcTrainToolAssembly>{RepoPaths.CliAssembly}</FcTrainToolAssembly>
                <FcTrainTaskAssembly>{RepoPaths.TaskAssembly}</FcTrainTaskAssembly>
              </PropertyGroup>
              <Import Project="{RepoPaths.Root}/build/FcTrain.Pipeline.targets" />
              <Target Name="Build" />
            </Project>
            """);
    }

    public void Dispose() => Directory.Delete(_repo, recursive: true);

    [Fact]
    public void Validation_is_incremental_and_reruns_when_a_dataset_file_changes()
    {
        var first = MsBuild();
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains("FcTrainValidate:", first.Output);
        Assert.Contains("fctrain validate:", first.Output);

        var second = MsBuild();
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("Skipping target \"FcTrainValidate\" because all output files are up-to-date", second.Output);

        string file = AConversationFile();
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(5));
        var third = MsBuild();
        Assert.True(third.ExitCode == 0, third.Output);
        Assert.DoesNotContain("Skipping target \"FcTrainValidate\"", third.Output);
    }

    [Fact]
    public void The_step_times_name_each_step_with_its_wall_time_or_as_skipped()
    {
        var first = MsBuild("-t:Build;_FcTrainStepTimes");
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Matches(@"fctrain: step validate: \d+\.\d s\s+fctrain: step tokenize: up to date, skipped\s+fctrain: step train: up to date, skipped\s+fctrain: step snapshot: up to date, skipped", first.Output);

        var second = MsBuild("-t:Build;_FcTrainStepTimes");
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("fctrain: step validate: up to date, skipped", second.Output);
    }

    [Fact]
    public void A_broken_dataset_file_fails_the_build_with_a_canonical_error()
    {
        string file = AConversationFile();
        string text = File.ReadAllText(file);
        File.WriteAllText(file, text.Insert(text.IndexOf('{') + 1, "\n  \"bogus_property\": 1,"));

        var result = MsBuild();

        Assert.NotEqual(0, result.ExitCode);
        string relative = Path.GetRelativePath(_repo, file).Replace('\\', '/');
        // MSBuild re-prints the tool's diagnostic as a real error: file(line,col): error FCT0xxx: message
        Assert.Matches(new Regex(Regex.Escape(relative) + @"\(2,3\): error FCT0\d{3}: .*bogus_property"), result.Output);
        Assert.DoesNotContain("exited with code", result.Output);
    }

    [Fact]
    public void A_property_maps_onto_its_setting_and_a_bad_value_fails_the_build_naming_the_property()
    {
        var result = MsBuild("-p:FcTrainEpochs=0");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Matches(@"error FCT0302: --set train\.epochs '0': .*MSBuild property FcTrainEpochs", result.Output);
        Assert.DoesNotContain("   at ", result.Output);
    }

    private string AConversationFile() =>
        Directory.EnumerateFiles(Path.Combine(_repo, "datasets/travel/conversations"), "*.json").Order().First();

    private (int ExitCode, string Output) MsBuild(params string[] arguments) =>
        CliRunner.Dotnet(_repo, ["msbuild", Path.Combine(_repo, "probe.proj"), .. arguments.Any(a => a.StartsWith("-t:")) ? arguments : ["-t:Build", .. arguments]]);

    internal static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (file.Contains("/obj/") || file.Contains("/bin/")) continue;
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
