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
        var paths = new Argument<string[]>("paths") { Description = "Dataset folders or files (default: every dataset under ./datasets).", Arity = ArgumentArity.ZeroOrMore };
        var resultFile = new Option<string?>("--result-file") { Description = "Write the validated repository root there (one line), for MSBuild." };
        var command = new Command("validate", "Validate datasets against the schemas and the rules of the data model.") { paths, resultFile };
        command.SetAction(parse =>
        {
            string root = Directory.GetCurrentDirectory();
            string[] given = parse.GetValue(paths) ?? [];
            foreach (string path in given.Where(p => !File.Exists(Path.GetFullPath(p, root)) && !Directory.Exists(Path.GetFullPath(p, root))))
            {
                Console.Error.WriteLine($"fctrain validate: '{path}' does not exist. Name dataset folders or files (relative to {root}).");
                return ExitCodes.Usage;
            }

            LoadResult result = DatasetLoader.Load(root, given);
            foreach (Diagnostic diagnostic in result.Diagnostics) Console.WriteLine(diagnostic);

            int errors = result.Diagnostics.Count(d => d.Severity == Severity.Error);
            int warnings = result.Diagnostics.Count - errors;
            int conversations = result.Datasets.Sum(d => d.Conversations.Count);
            int eval = result.Datasets.Sum(d => d.Conversations.Count(c => c.Split == Split.Eval));
            int functions = result.Datasets.Sum(d => d.Functions.Count);
            Console.WriteLine($"fctrain validate: {result.Datasets.Count} dataset(s), {functions} function(s), {conversations} conversation(s) ({conversations - eval} train, {eval} eval): {errors} error(s), {warnings} warning(s).");

            if (parse.GetValue(resultFile) is { } file) AtomicFile.WriteAllText(Path.GetFullPath(file, root), root + Environment.NewLine);
            return errors > 0 ? ExitCodes.Errors : ExitCodes.Success;
        });
        return command;
    }
}
