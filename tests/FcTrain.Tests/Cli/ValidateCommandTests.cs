using System.Diagnostics;
using FcTrain.Cli;
using FcTrain.Cli.Commands;

namespace FcTrain.Tests.Cli;

public class ValidateCommandTests
{
    [Fact]
    public void Clean_data_exits_0_with_a_summary()
    {
        using var workspace = new TestWorkspace();
        workspace.AddDataset("alpha", conversations: 5, eval: 2);
        workspace.AddDataset("beta", conversations: 3);
        var output = new StringWriter();

        int exit = ValidateCommand.Run(workspace.Root, [], output);

        Assert.True(exit == ExitCodes.Success, output.ToString());
        string summary = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("fctrain validate: 2 dataset(s), 2 function(s), 8 valid conversation(s) (6 train, 2 eval); 0 error(s), 0 warning(s)", summary);
    }

    [Fact]
    public void From_a_subfolder_validate_finds_the_workspace_and_reports_the_same_paths()
    {
        using var workspace = new TestWorkspace(settings: "{}");
        string dataset = workspace.AddDataset("alpha", conversations: 2);
        string file = Path.Combine(dataset, "conversations", "alpha-001.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"city\": \"Dublin\"", "\"city\": 7"));

        var (exit, stdout, stderr) = CliRunner.Run(Path.Combine(dataset, "conversations"), "validate");

        Assert.True(exit == ExitCodes.Errors, stdout + stderr);
        Assert.Matches(@"(?m)^datasets/alpha/conversations/alpha-001\.json\(\d+,\d+\): error FCT0\d{3}: ", stdout);
    }

    [Fact]
    public void Errors_exit_1_and_print_canonical_lines()
    {
        var output = new StringWriter();
        int exit = ValidateCommand.Run(RepoPaths.TestData, ["validation/many-errors"], output);

        Assert.Equal(ExitCodes.Errors, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.All(lines[..5], l => Assert.Matches(@"^validation/many-errors/conversations/\w\.json\(\d+,\d+\): error FCT00\d\d: ", l));
        Assert.Contains("5 error(s), 0 warning(s)", lines[5]);
    }

    [Fact]
    public void Warnings_alone_exit_0()
    {
        int exit = ValidateCommand.Run(RepoPaths.TestData, ["validation/FCT1003-glob-matches-nothing"], new StringWriter());

        Assert.Equal(ExitCodes.Success, exit);
    }

    [Theory]
    [InlineData(ExitCodes.Usage, "validate --config")]
    [InlineData(ExitCodes.Usage, "no-such-command")]
    [InlineData(ExitCodes.Errors, "validate validation/FCT0014-role-order")]
    [InlineData(ExitCodes.Success, "validate validation/FCT1001-function-never-called")]
    public void The_built_tool_returns_the_documented_exit_codes(int expected, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "dotnet-fctrain.dll")}\" {arguments}")
        {
            WorkingDirectory = RepoPaths.TestData,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(expected == process.ExitCode, output);
    }
}
