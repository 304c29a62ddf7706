using System.CommandLine;
using FcTrain.Cli;
using FcTrain.Cli.Commands;
using FcTrain.Diagnostics;

FcTrain.Models.OpenMp.LimitSpinning();   // before anything loads libtorch

var root = new RootCommand("fctrain: fine-tune Gemma-2 for function calling with LoRA, dataset as code.");
root.Subcommands.Add(ValidateCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(RenderCommand.Create());
root.Subcommands.Add(TokensCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(ModelCommand.Create());
root.Subcommands.Add(ScoreCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(TrainCommand.Create());
root.Subcommands.Add(MergeCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(SnapshotCommand.Create());
root.Subcommands.Add(SettingsCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
root.Subcommands.Add(ExportCommand.Create());

ParseResult parse = root.Parse(args);
if (parse.Errors.Count > 0)
{
    foreach (var error in parse.Errors) Console.Error.WriteLine($"fctrain: {error.Message}");
    Console.Error.WriteLine("Run 'fctrain --help' for usage.");
    return ExitCodes.Usage;
}
try
{
    return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Exception e) when (InternalError.UserError(e) is { } known)
{
    // A user's mistake: canonical lines, no stack trace.
    foreach (var diagnostic in known.Diagnostics) Console.Error.WriteLine(diagnostic.ToString());
    return known.IsUsage ? ExitCodes.Usage : ExitCodes.Errors;
}
catch (Exception e)
{
    // A bug: one line on screen, the stack trace in obj/fctrain/ of the workspace.
    Console.Error.WriteLine(InternalError.Report(e, FcTrain.Settings.Workspace.Find(Environment.CurrentDirectory).Root));
    return ExitCodes.InternalError;
}
