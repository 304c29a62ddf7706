using System.CommandLine;
using FcTrain.Diagnostics;
using FcTrain.Interop;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain import [--format openai|hermes|xlam] INPUT… --out DATASET_DIR [--name NAME] [--skip-invalid]</c>: convert
/// public function-calling records (*.jsonl, *.json, *.parquet) into a dataset folder that <c>fctrain validate</c> accepts.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var inputs = new Argument<string[]>("inputs") { Description = "Input files: *.jsonl, *.json (an array of records) or *.parquet.", Arity = ArgumentArity.OneOrMore };
        var format = new Option<string?>("--format") { Description = "openai, hermes or xlam (default: detected from the first record, and said)." };
        format.AcceptOnlyFromAmong("openai", "hermes", "xlam");
        var output = new Option<string>("--out") { Description = "The dataset folder to write (new, empty, or an earlier import).", Required = true };
        var name = new Option<string?>("--name") { Description = "The dataset's name (default: the folder's name)." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Import the valid records and report the others, instead of failing (exit 1) on any." };
        var command = new Command("import", "Convert OpenAI, Hermes or xLAM function-calling records into a dataset folder.") { inputs, format, output, name, skipInvalid };
        var settingsOptions = new SettingsOptions(command);
        command.SetAction(parse =>
        {
            string[] files = CommonOptions.FullPaths(parse.GetValue(inputs));
            string outDirectory = CommonOptions.FullPath(parse.GetValue(output))!;
            // The dataset lives in the workspace of the output folder: its $schema paths point at that workspace's schemas/.
            var effective = settingsOptions.Read(parse, outDirectory);
            var options = new ImportOptions(files, outDirectory, effective.Workspace.Root,
                Importer.ParseFormat(parse.GetValue(format)), parse.GetValue(name), parse.GetValue(skipInvalid));
            var started = System.Diagnostics.Stopwatch.StartNew();
            var diagnostics = new List<Diagnostic>();
            var summary = Importer.Run(options, diagnostics, message => Console.WriteLine($"fctrain import: {message}"));
            foreach (var diagnostic in diagnostics) Console.WriteLine(diagnostic);
            int errors = diagnostics.Count(d => d.Severity == Severity.Error);
            string outcome = summary.Written
                ? $"wrote {Path.GetRelativePath(Environment.CurrentDirectory, options.OutDirectory).Replace('\\', '/')} ({summary.Functions} function(s), conversations as {(summary.Jsonl ? "*.jsonl parts" : "*.json files")})"
                : "wrote nothing";
            Console.WriteLine(FormattableString.Invariant(
                $"fctrain import: {Importer.FormatName(summary.Format)}: {summary.Records} record(s), {summary.Imported} imported, {errors} error(s) in {started.Elapsed.TotalSeconds:0.00} s; {outcome}."));
            return summary.Written && (errors == 0 || options.SkipInvalid) ? ExitCodes.Success : ExitCodes.Errors;
        });
        return command;
    }
}
