using System.CommandLine;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain validate [PATH…]</c>: check datasets and report every problem in MSBuild's format.</summary>
internal static class ValidateCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Dataset folders or files (default: every dataset under ./datasets).", Arity = ArgumentArity.ZeroOrMore };
        var command = new Command("validate", "Validate datasets against the schemas and the rules of the data model.") { paths };
        command.SetAction(parse =>
        {
            Console.Error.WriteLine("fctrain validate: not implemented yet");
            return ExitCodes.Errors;
        });
        return command;
    }
}
