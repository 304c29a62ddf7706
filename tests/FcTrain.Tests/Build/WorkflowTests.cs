namespace FcTrain.Tests.Build;

/// <summary>
/// The datasets workflow, in this repository and in the template: pull requests validate with the versions checked
/// against the base branch (which needs its commits: fetch-depth 0), the job summary is fctrain report, training on
/// demand. The two files differ only in their comment and in how they run the CLI (built here, packed there).
/// </summary>
public class WorkflowTests
{
    private static readonly string Repository = Path.Combine(RepoPaths.Root, ".github/workflows/datasets.yml");
    private static readonly string Template = Path.Combine(RepoPaths.Root, "src/FcTrain.Templates/content/fctrain-datasets/.github/workflows/datasets.yml");

    public static TheoryData<string> Files => new() { Repository, Template };

    [Theory]
    [MemberData(nameof(Files))]
    public void Pull_requests_validate_against_the_base_branch_and_report_to_the_job_summary(string file)
    {
        var lines = File.ReadAllLines(file).Select(l => l.TrimEnd()).ToList();
        var validate = Job(lines, "validate");
        var train = Job(lines, "train");

        Assert.Contains("  pull_request:", lines);
        Assert.Contains("  workflow_dispatch:", lines);
        Assert.Contains("      BASE: ${{ github.base_ref }}", validate);
        Assert.Contains("          fetch-depth: 0   # the base branch's commits, for --base", validate);
        Assert.Contains("          global-json-file: global.json", validate);
        Assert.Contains("        run: dotnet build -tl:off ${BASE:+-p:FcTrainBase=origin/$BASE}", validate);
        int report = validate.IndexOf("      - name: Report");
        Assert.True(report > validate.IndexOf("      - name: Validate"), "the report step follows validation");
        Assert.Equal("        if: always()", validate[report + 1]);
        Assert.Matches(@"report \$\{BASE:\+--base origin/\$BASE\} --markdown ""\$GITHUB_STEP_SUMMARY""$", validate.Last(l => l.Length > 0));
        Assert.Contains("        run: dotnet build -t:Train -tl:off", train);
        Assert.Contains("    if: github.event_name == 'workflow_dispatch' || contains(github.event.pull_request.labels.*.name, 'train')", train);
    }

    [Fact]
    public void The_template_runs_the_packed_tool_and_this_repository_the_built_one_otherwise_they_are_equal()
    {
        var repository = Body(Repository);
        var template = Body(Template);

        Assert.Contains("          dotnet run --project tools/dotnet-fctrain --no-build -- report ${BASE:+--base origin/$BASE} --markdown \"$GITHUB_STEP_SUMMARY\"", repository);
        Assert.Contains("          dotnet tool restore", template);
        Assert.Contains("          dotnet fctrain report ${BASE:+--base origin/$BASE} --markdown \"$GITHUB_STEP_SUMMARY\"", template);
        Assert.Equal(repository.Where(l => !l.Contains("report ", StringComparison.Ordinal)),
            template.Where(l => !l.Contains("report ", StringComparison.Ordinal) && l != "          dotnet tool restore"));
    }

    [Fact]
    public void The_pipeline_passes_FcTrainBase_to_validate()
    {
        string targets = File.ReadAllText(Path.Combine(RepoPaths.Root, "build/FcTrain.Pipeline.targets"));
        Assert.Contains("""<_FcTrainBaseArg Include="--base;$(FcTrainBase)" Condition="'$(FcTrainBase)' != ''" />""", targets);
        Assert.Contains("Arguments=\"@(_FcTrainSettingArg);@(_FcTrainBaseArg);@(_FcTrainDatasetArg)\"", targets);
    }

    /// <summary>The lines of a job: from its "  name:" line to the next job or the end.</summary>
    private static List<string> Job(List<string> lines, string name)
    {
        int start = lines.IndexOf($"  {name}:");
        Assert.True(start >= 0, $"no job '{name}'");
        int end = lines.FindIndex(start + 1, l => l.Length > 2 && l[2] != ' ' && l.StartsWith("  ", StringComparison.Ordinal) && l.EndsWith(':'));
        return lines[start..(end < 0 ? lines.Count : end)];
    }

    /// <summary>The file without its leading comment.</summary>
    private static List<string> Body(string file) => File.ReadAllLines(file).SkipWhile(l => l.StartsWith('#')).Select(l => l.TrimEnd()).ToList();
}
