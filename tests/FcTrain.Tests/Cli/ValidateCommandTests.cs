using System.Diagnostics;
using FcTrain.Cli;
using FcTrain.Cli.Commands;

namespace FcTrain.Tests.Cli;

public class ValidateCommandTests
{
    [Fact]
    public void Clean_samples_exit_0_with_a_summary_and_write_the_result_file()
    {
        string resultFile = Path.Combine(Path.GetTempPath(), $"fctrain-validate-{Guid.NewGuid():N}.txt");
        try
        {
            var output = new StringWriter();
            int exit = ValidateCommand.Run(TestPaths.RepoRoot, [], resultFile, output);

            Assert.Equal(ExitCodes.Success, exit);
            string summary = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith("fctrain validate: 4 dataset(s), 12 function(s), 64 valid conversation(s) (51 train, 13 eval); 0 error(s), 0 warning(s)", summary);
            Assert.Equal("datasets/calendar\ndatasets/shop\ndatasets/travel\ndatasets/weather\n", File.ReadAllText(resultFile));
        }
        finally
        {
            File.Delete(resultFile);
        }
    }

    [Fact]
    public void Errors_exit_1_and_print_canonical_lines()
    {
        var output = new StringWriter();
        int exit = ValidateCommand.Run(TestPaths.TestData, ["validation/many-errors"], null, output);

        Assert.Equal(ExitCodes.Errors, exit);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.All(lines[..5], l => Assert.Matches(@"^validation/many-errors/conversations/\w\.json\(\d+,\d+\): error FCT00\d\d: ", l));
        Assert.Contains("5 error(s), 0 warning(s)", lines[5]);
    }

    [Fact]
    public void Warnings_alone_exit_0()
    {
        int exit = ValidateCommand.Run(TestPaths.TestData, ["validation/FCT1003-glob-matches-nothing"], null, new StringWriter());

        Assert.Equal(ExitCodes.Success, exit);
    }

    [Theory]
    [InlineData(ExitCodes.Usage, "validate --result-file")]
    [InlineData(ExitCodes.Usage, "no-such-command")]
    [InlineData(ExitCodes.Errors, "validate validation/FCT0014-role-order")]
    [InlineData(ExitCodes.Success, "validate validation/FCT1001-function-never-called")]
    public void The_built_tool_returns_the_documented_exit_codes(int expected, string arguments)
    {
        var start = new ProcessStartInfo("dotnet", $"\"{Path.Combine(AppContext.BaseDirectory, "dotnet-fctrain.dll")}\" {arguments}")
        {
            WorkingDirectory = TestPaths.TestData,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.True(expected == process.ExitCode, output);
    }
}
