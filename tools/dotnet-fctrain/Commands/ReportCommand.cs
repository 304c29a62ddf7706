using System.CommandLine;
using FcTrain.Data;
using FcTrain.IO;
using FcTrain.Reporting;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain report [PATH…] [--base REF] [--markdown FILE]</c>: per dataset its version, conversations per split and
/// category, tokens, trained tokens and function calls; with <c>--base</c> what changed since that git revision and the
/// version rules. Plain text on stdout; <c>--markdown</c> writes the same as Markdown (for <c>$GITHUB_STEP_SUMMARY</c>).
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var paths = CommonOptions.Datasets();
        var baseRevision = ValidateCommand.BaseOption();
        var markdown = new Option<string?>("--markdown") { Description = "Also write the report as Markdown to this file (e.g. \"$GITHUB_STEP_SUMMARY\"); replaced whole." };
        var command = new Command("report", "Report datasets: conversations per split and category, tokens, function calls; what changed since a git revision.") { paths, baseRevision, markdown };
        var settingsOptions = new SettingsOptions(command, "model");
        command.SetAction(parse =>
        {
            string[] datasets = CommonOptions.FullPaths(parse.GetValue(paths));
            var effective = settingsOptions.Read(parse, datasets.FirstOrDefault());
            string root = effective.Workspace.Root;
            string? markdownFile = CommonOptions.FullPath(parse.GetValue(markdown));

            var loaded = DatasetLoader.Load(root, datasets);
            var before = parse.GetValue(baseRevision) is { } revision ? BaseRevision.Load(root, revision, datasets, loaded.Datasets) : null;
            var report = DataReport.Create(root, loaded, effective.Value.Model, before);
            var document = report.ToDocument();
            Console.Out.Write(document.ToText());
            if (markdownFile is not null)
            {
                AtomicFile.WriteAllText(markdownFile, document.ToMarkdown());
                Console.Out.WriteLine($"fctrain report: wrote {markdownFile}");
            }
            return report.HasErrors ? ExitCodes.Errors : ExitCodes.Success;
        });
        return command;
    }
}
