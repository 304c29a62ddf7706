using System.CommandLine;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain validate [PATH…]</c>: check datasets and report every problem in MSBuild's format.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var paths = CommonOptions.Datasets();
        var command = new Command("validate", "Validate datasets (and the workspace's fctrain.json) against the schemas and the rules of the data model.") { paths };
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
            int code = Run(root, datasets, Console.Out);
            return settingsErrors > 0 ? ExitCodes.Errors : code;
        });
        return command;
    }

    /// <summary>Validates from <paramref name="repoRoot"/> (the working directory when run by MSBuild); returns the exit code.</summary>
    internal static int Run(string repoRoot, IReadOnlyList<string> paths, TextWriter output)
    {
        var started = System.Diagnostics.Stopwatch.StartNew();
        var result = DatasetLoader.Load(repoRoot, paths);
        foreach (var diagnostic in result.Diagnostics) output.WriteLine(diagnostic);

        int errors = result.Diagnostics.Count(d => d.Severity == Severity.Error);
        int warnings = result.Diagnostics.Count - errors;
        int eval = result.Datasets.Sum(d => d.Conversations.Count(c => c.Split == Split.Eval));
        output.WriteLine(
            $"fctrain validate: {result.Datasets.Count} dataset(s), {result.Datasets.Sum(d => d.Functions.Count)} function(s), "
            + $"{result.ConversationCount} valid conversation(s) ({result.ConversationCount - eval} train, {eval} eval); "
            + $"{errors} error(s), {warnings} warning(s) in {started.Elapsed.TotalSeconds:0.00} s.");

        return errors > 0 ? ExitCodes.Errors : ExitCodes.Success;
    }
}
