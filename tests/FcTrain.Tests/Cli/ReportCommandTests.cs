using FcTrain.Cli;
using FcTrain.Tests.Reporting;

namespace FcTrain.Tests.Cli;

/// <summary><c>fctrain report</c> and <c>fctrain validate --base</c> as processes, on a real git repository.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly GitDatasetRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    [Fact]
    public void Report_prints_the_tables_and_writes_the_same_as_markdown()
    {
        string markdown = Path.Combine(_repo.Root, "obj", "summary.md");

        var (exit, stdout, stderr) = CliRunner.Run(_repo.Root, "report", "--base", "main", "--markdown", markdown);

        Assert.True(exit == ExitCodes.Success, stdout + stderr);
        Assert.Matches(@"(?m)^  simple\s+1\s+0\s+1$", stdout);
        Assert.Matches(@"(?m)^  get_weather\s+4\s+3\s+1$", stdout);
        Assert.Contains("No change (version 1.0.0).", stdout);
        string md = File.ReadAllText(markdown);
        Assert.Contains("| simple | 1 | 0 | 1 |", md);
        Assert.Contains("| get\\_weather | 4 | 3 | 1 |", md);
        Assert.Contains("| category | train conversations | eval conversations | assistant turns |", md);
        // The same numbers: each dataset row of the text's first table is a row of the Markdown's.
        var row = stdout.Split('\n').First(l => l.StartsWith("  d ", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("| " + string.Join(" | ", row[..6]) + " | no change |", md);
    }

    [Fact]
    public void Validate_and_report_with_base_give_the_version_error_at_dataset_json_version()
    {
        _repo.WriteConversation("c-new", ["get_time"], GitDatasetRepository.Calls(("get_time", """{ "zone": "Asia/Tokyo" }""")));
        var (line, column) = _repo.VersionPosition();
        string expected = $"datasets/d/dataset.json({line},{column}): error FCT0703: /version: dataset 'd' changed since main (conversations 1 added) but its version is still 1.0.0.";

        var validate = CliRunner.Run(_repo.Root, "validate", "--base", "main");
        var report = CliRunner.Run(_repo.Root, "report", "--base", "main");

        Assert.True(validate.ExitCode == ExitCodes.Errors, validate.Stdout + validate.Stderr);
        Assert.Contains(expected, validate.Stdout);
        Assert.Contains("1 changed since main; 1 error(s), 0 warning(s)", validate.Stdout);
        Assert.True(report.ExitCode == ExitCodes.Errors, report.Stdout + report.Stderr);
        Assert.Contains(expected, report.Stdout);
        Assert.Contains("conversations added (1): c-new", report.Stdout);
    }

    [Fact]
    public void Data_with_errors_is_reported_with_its_canonical_lines_and_exit_1()
    {
        _repo.WriteConversation("c-simple", ["get_weather"], GitDatasetRepository.Calls(("get_weather", """{ "city": 7 }""")));
        _repo.Write($"{GitDatasetRepository.Dataset}/conversations/broken.json", "{ \"id\": ");

        var (exit, stdout, stderr) = CliRunner.Run(_repo.Root, "report", "--base", "main");

        Assert.True(exit == ExitCodes.Errors, stdout + stderr);
        Assert.DoesNotContain("FCT9999", stdout + stderr);
        Assert.Matches(@"(?m)^datasets/d/conversations/c-simple\.json\(\d+,\d+\): error FCT0010: ", stdout);
        Assert.Matches(@"(?m)^datasets/d/conversations/broken\.json\(\d+,\d+\): error FCT0001: ", stdout);
        // c-simple fails validation now: a changed conversation, not a removed one.
        Assert.Contains("conversations changed (1): c-simple", stdout);
        Assert.DoesNotContain("conversations removed", stdout);
    }

    [Fact]
    public void An_unknown_revision_is_a_usage_error()
    {
        var (exit, stdout, stderr) = CliRunner.Run(_repo.Root, "validate", "--base", "origin/no-such-branch");

        Assert.True(exit == ExitCodes.Usage, stdout + stderr);
        Assert.Contains("error FCT0706: --base 'origin/no-such-branch' names no commit", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Base_outside_a_git_repository_is_a_usage_error()
    {
        using var workspace = new TestWorkspace(settings: "{}");
        workspace.AddDataset("alpha", conversations: 2);

        var (exit, stdout, stderr) = CliRunner.Run(workspace.Root, "report", "--base", "main");

        Assert.True(exit == ExitCodes.Usage, stdout + stderr);
        Assert.Contains("error FCT0705: --base compares with a git revision, but", stderr);
        Assert.Contains("is not inside a git repository", stderr);
        Assert.Empty(stdout);
    }
}
