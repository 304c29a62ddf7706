using System.CommandLine;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Reporting;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain validate [PATH…] [--base REF]</c>: check datasets and report every problem in MSBuild's format; with
/// <c>--base</c>, also the version rules against that git revision (FCT0703, FCT0704).
/// </summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var paths = CommonOptions.Datasets();
        var baseRevision = BaseOption();
        var command = new Command("validate", "Validate datasets (and the workspace's fctrain.json) against the schemas and the rules of the data model.") { paths, baseRevision };
        var settingsOptions = new SettingsOptions(command);
        command.SetAction(parse =>
        {
            string[] datasets = CommonOptions.FullPaths(parse.GetValue(paths));
            var root = Settings.Workspace.Find(datasets.FirstOrDefault() ?? Environment.CurrentDirectory).Root;
            int settingsErrors = 0;
            try { root = settingsOptions.Read(parse, datasets.FirstOrDefault()).Workspace.Root; }
            catch (FcTrainException e) when (!e.IsUsage)
            {
                // The settings file's problems and the datasets' in one run.
                foreach (var diagnostic in e.Diagnostics) Console.Out.WriteLine(diagnostic);
                settingsErrors = e.Diagnostics.Count;
            }
            int code = Run(root, datasets, Console.Out, parse.GetValue(baseRevision));
            return settingsErrors > 0 ? ExitCodes.Errors : code;
        });
        return command;
    }

    /// <summary>--base REF: the git revision to compare with (validate, report).</summary>
    internal static Option<string?> BaseOption() => new("--base")
    {
        Description = "A git revision (branch, tag, commit) to compare with: a dataset changed since then must raise its version; "
            + "a breaking function change needs a major version. Read from git's objects; nothing is checked out.",
    };

    /// <summary>Validates from <paramref name="repoRoot"/> (the working directory when run by MSBuild); returns the exit code.</summary>
    internal static int Run(string repoRoot, IReadOnlyList<string> paths, TextWriter output, string? baseRevision = null)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = DatasetLoader.Load(repoRoot, paths);
        var diagnostics = result.Diagnostics;
        string compared = "";
        if (baseRevision is not null)
        {
            var before = BaseRevision.Load(repoRoot, baseRevision, paths, result.Datasets);
            var changes = DatasetChanges.Compare(before.Datasets, result.Datasets, result.Diagnostics);
            diagnostics = [.. diagnostics.Concat(VersionRules.Check(repoRoot, baseRevision, result.Datasets, changes))
                .OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ThenBy(d => d.Code, StringComparer.Ordinal)];
            compared = $"; {changes.Count(c => c.HasChanges)} changed since {baseRevision}";
        }
        foreach (var diagnostic in diagnostics) output.WriteLine(diagnostic);

        int errors = diagnostics.Count(d => d.Severity == Severity.Error);
        int warnings = diagnostics.Count - errors;
        int eval = result.Datasets.Sum(d => d.Conversations.Count(c => c.Split == Split.Eval));
        output.WriteLine(
            $"fctrain validate: {result.Datasets.Count} dataset(s), {result.Datasets.Sum(d => d.Functions.Count)} function(s), "
            + $"{result.ConversationCount} valid conversation(s) ({result.ConversationCount - eval} train, {eval} eval){compared}; "
            + $"{errors} error(s), {warnings} warning(s) in {started.Elapsed.TotalSeconds:0.00} s.");

        return errors > 0 ? ExitCodes.Errors : ExitCodes.Success;
    }
}
