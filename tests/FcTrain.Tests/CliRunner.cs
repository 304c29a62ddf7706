using System.Diagnostics;

namespace FcTrain.Tests;

/// <summary>Runs a program in its own process and collects what it printed: the built fctrain CLI (as users and
/// MSBuild run it), <c>dotnet build</c>, <c>dotnet msbuild</c>.</summary>
internal static class CliRunner
{
    /// <summary>The built fctrain CLI.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(string workingDirectory, params string[] args) =>
        RunProgram("dotnet", [RepoPaths.CliAssembly, .. args], workingDirectory);

    /// <summary>Any program; stderr is read concurrently, so neither stream can block the other.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunProgram(string fileName, IEnumerable<string> args, string workingDirectory)
    {
        var start = new ProcessStartInfo(fileName, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary><c>dotnet ARGS</c> (build, msbuild) with the console logger's plain lines, both streams as one text.</summary>
    public static (int ExitCode, string Output) Dotnet(string workingDirectory, params string[] args)
    {
        var (exit, stdout, stderr) = RunProgram("dotnet", [.. args, "-v:n", "-nologo", "-nodeReuse:false", "-tl:off"], workingDirectory);
        return (exit, stdout + stderr);
    }
}
