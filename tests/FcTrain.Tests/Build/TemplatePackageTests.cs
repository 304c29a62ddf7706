using System.Diagnostics;

namespace FcTrain.Tests.Build;

/// <summary>
/// The packages end to end, as a team uses them: pack into a temporary feed, create a dataset repository with
/// <c>dotnet new fctrain-datasets</c> outside this tree, then build, break, train and run the tool there.
/// The consumer side uses a throwaway NuGet package folder, so nothing stale from an earlier pack is used.
/// Slow (packing the tool zips libtorch): dotnet test --filter Category=Slow.
/// </summary>
[Trait("Category", "Slow")]
public sealed class TemplatePackageTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("fctrain-template-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public void A_repository_from_the_template_builds_fails_on_bad_data_trains_and_runs_the_tool()
    {
        string feed = Path.Combine(_work, "feed"), hive = Path.Combine(_work, "hive"), repo = Path.Combine(_work, "my-datasets");
        // A throwaway package folder and CLI home: the local-tool resolver cache (~/.dotnet/toolResolverCache) is per
        // user, and an entry left by another run would point `dotnet fctrain` at a package folder that is gone.
        var env = new Dictionary<string, string>
        {
            ["NUGET_PACKAGES"] = Path.Combine(_work, "packages"),
            ["DOTNET_CLI_HOME"] = Path.Combine(_work, "cli-home"),
        };

        // 1. The packages, packed as the README says, but project by project (the test project itself is not rebuilt).
        foreach (string project in new[] { "tools/dotnet-fctrain/dotnet-fctrain.csproj", "src/FcTrain.Sdk/FcTrain.Sdk.csproj", "src/FcTrain.Templates/FcTrain.Templates.csproj" })
            Ok(Run(RepoPaths.Root, null, "pack", Path.Combine(RepoPaths.Root, project), "-c", "Release", "-o", feed, "-nodeReuse:false", "-tl:off"));
        string templates = Directory.EnumerateFiles(feed, "FcTrain.Templates.*.nupkg").Single();

        // 2. dotnet new install + dotnet new fctrain-datasets (in a private template hive).
        Ok(Run(_work, env, "new", "install", templates, "--debug:custom-hive", hive));
        Ok(Run(_work, env, "new", "fctrain-datasets", "-o", repo, "--debug:custom-hive", hive));
        foreach (string expected in new[] { "global.json", "datasets.csproj", "fctrain.json", ".config/dotnet-tools.json", ".github/workflows/datasets.yml", "README.md", "schemas/conversation.v1.schema.json" })
            Assert.True(File.Exists(Path.Combine(repo, expected)), expected);
        File.WriteAllText(Path.Combine(repo, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="fctrain" value="{feed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);

        // 3. dotnet build validates the sample.
        var build = Run(repo, env, "build", "-tl:off", "-nodeReuse:false");
        Ok(build);
        Assert.Contains("fctrain validate: 1 dataset(s)", build.Output);

        // 4. A bad argument: a canonical error line naming the file in that repository (and a problem-matcher line).
        string conversation = Path.Combine(repo, "datasets/sample/conversations/sample-002.json");
        string good = File.ReadAllText(conversation);
        Assert.Contains("\"days\": 5", good);
        File.WriteAllText(conversation, good.Replace("\"days\": 5", "\"days\": \"five\""));
        var bad = Run(repo, env, "build", "-tl:off", "-nodeReuse:false");
        Assert.NotEqual(0, bad.ExitCode);
        var line = bad.Output.Split('\n').Select(l => SdkTargetsTests.ProblemMatcher.Match(l.TrimEnd('\r')))
            .FirstOrDefault(m => m.Success && m.Groups[5].Value.StartsWith("FCT", StringComparison.Ordinal));
        Assert.True(line is not null, bad.Output);
        Assert.Equal(conversation, Path.GetFullPath(line.Groups[1].Value, repo));
        Assert.Equal("error", line.Groups[4].Value);
        File.WriteAllText(conversation, good);

        // 5. Train two steps: a PEFT adapter. The snapshot step after it fails (FCT0402: no verified snapshot yet in
        //    a new repository); few generated tokens keep it short.
        var train = Run(repo, env, "build", "-t:Train", "-p:FcTrainEpochs=1", "-p:FcTrainMaxSteps=2", "-p:FcTrainMaxNewTokens=4", "-tl:off", "-nodeReuse:false");
        string adapter = Path.Combine(repo, "artifacts/fctrain/adapter");
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_model.safetensors")), train.Output);
        Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")), train.Output);
        Assert.Contains("error FCT0402", train.Output);

        // 6. The tool, installed from the package into a folder: TorchSharp loads (on Debian 12 only thanks to the
        //    patched libLibTorchSharp.so the package carries).
        string tools = Path.Combine(_work, "tools");
        Ok(Run(_work, env, "tool", "install", "dotnet-fctrain", "--tool-path", tools, "--add-source", feed));
        var score = RunExe(Path.Combine(tools, "fctrain"), _work, env, "score", "--model", "tiny", "--input-ids", "2,3");
        Ok(score);
        Assert.Contains("\"loss\":", score.Output);

        // 7. The local tool.
        Ok(Run(repo, env, "tool", "restore"));
        var validate = Run(repo, env, "fctrain", "validate");
        Ok(validate);
        Assert.Contains("0 error(s)", validate.Output);

        // 8. The workflow's job summary, in a git repository: fctrain report against the base branch.
        foreach (string[] git in new[] { new[] { "init", "-q", "-b", "main" }, ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@fctrain.local", "commit", "-q", "-m", "base"] })
            Ok(RunExe("git", repo, env, git));
        string summary = Path.Combine(_work, "summary.md");
        var report = Run(repo, env, "fctrain", "report", "--base", "main", "--markdown", summary);
        Ok(report);
        Assert.Contains("No change (version", report.Output);
        Assert.Contains("| sample |", File.ReadAllText(summary));
    }

    private static void Ok((int ExitCode, string Output) result) => Assert.True(result.ExitCode == 0, result.Output);

    private static (int ExitCode, string Output) Run(string directory, Dictionary<string, string>? env, params string[] args) =>
        RunExe("dotnet", directory, env, args);

    private static (int ExitCode, string Output) RunExe(string exe, string directory, Dictionary<string, string>? env, params string[] args)
    {
        var start = new ProcessStartInfo(exe, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in env ?? []) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd() + stderr.Result;
        process.WaitForExit();
        return (process.ExitCode, $"{exe} {string.Join(' ', args)} (exit {process.ExitCode}):\n{output}");
    }
}
