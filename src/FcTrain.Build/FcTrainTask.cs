using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace FcTrain.Build;

/// <summary>
/// Runs one <c>fctrain</c> command (validate, tokenize, train, snapshot) out of process.
/// Diagnostics the tool prints in MSBuild's canonical form (<c>path(line,col): error FCT0001: …</c>)
/// become real MSBuild errors and warnings; other lines are logged as messages, so progress
/// streams into the build log.
/// </summary>
public sealed class FcTrainTask : ToolTask
{
    /// <summary>The fctrain command to run, e.g. <c>validate</c>.</summary>
    [Required] public string Command { get; set; } = "";

    /// <summary>The path of the built CLI assembly (fctrain.dll).</summary>
    [Required] public string ToolAssembly { get; set; } = "";

    /// <summary>The working directory: the repository root, so diagnostics carry repo-relative paths.</summary>
    [Required] public string RepoRoot { get; set; } = "";

    /// <summary>Further arguments, one item each (options and their values).</summary>
    public ITaskItem[] Arguments { get; set; } = [];

    /// <summary>The command's wall time in seconds (invariant culture, one decimal), for the pipeline's summary.</summary>
    [Output] public string Seconds { get; private set; } = "";

    protected override string ToolName => "dotnet";

    protected override MessageImportance StandardOutputLoggingImportance => MessageImportance.High;

    protected override MessageImportance StandardErrorLoggingImportance => MessageImportance.High;

    protected override string GenerateFullPathToTool() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : ToolName;

    protected override string GetWorkingDirectory() => RepoRoot;

    protected override string GenerateCommandLineCommands()
    {
        var builder = new CommandLineBuilder();
        builder.AppendFileNameIfNotNull(ToolAssembly);
        builder.AppendTextUnquoted(" " + Command);
        foreach (ITaskItem argument in Arguments) builder.AppendSwitchIfNotNull("", argument.ItemSpec);
        return builder.ToString();
    }

    protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
    {
        // Canonical "file(line,col): error CODE: text" lines become errors/warnings with a location;
        // everything else is a message. The tool's diagnostics paths are relative to RepoRoot: they are made
        // full here, so the build log (and CI annotations, which resolve relative paths against the project
        // file's folder, not RepoRoot) name the file wherever the project file is.
        Log.LogMessageFromText(WithFullPath(singleLine, RepoRoot), messageImportance);
    }

    private static readonly System.Text.RegularExpressions.Regex CanonicalLine = new(
        @"^(?<file>[^\s(][^(]*?)(?<rest>(?:\(\d+(?:,\d+)*\))?\s*:\s*(?:error|warning)\s+[A-Za-z]+\d+\s*:.*)$",
        System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>A canonical diagnostic line with its relative file made full against <paramref name="root"/>; any other line as is.</summary>
    internal static string WithFullPath(string line, string root)
    {
        var match = CanonicalLine.Match(line);
        if (!match.Success || string.IsNullOrEmpty(root)) return line;
        string file = match.Groups["file"].Value;
        if (Path.IsPathRooted(file) || file.Contains("://", StringComparison.Ordinal)) return line;
        return Path.GetFullPath(file, Path.GetFullPath(root)) + match.Groups["rest"].Value;
    }

    protected override bool HandleTaskExecutionErrors()
    {
        // The tool has already reported its diagnostics; don't add a generic "exited with code 1"
        // error on top of them, but do fail loudly if it failed without saying why.
        if (Log.HasLoggedErrors) return false;
        Log.LogError($"fctrain {Command} failed with exit code {ExitCode}.");
        return false;
    }

    public override bool Execute()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool succeeded = base.Execute() && !Log.HasLoggedErrors;
        Seconds = clock.Elapsed.TotalSeconds.ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        return succeeded;
    }
}
