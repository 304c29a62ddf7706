namespace FcTrain.Diagnostics;

/// <summary>
/// A user's mistake or an unusable input (a missing model, a bad option, a truncated file):
/// the CLI prints each <see cref="Diagnostic"/> in MSBuild's format and exits with code 1 (2 for a
/// <see cref="IsUsage">usage error</see>), never a stack trace.
/// </summary>
public sealed class FcTrainException : Exception
{
    public FcTrainException(Diagnostic diagnostic) : this([diagnostic]) { }

    /// <summary>Every problem found, in order (the first is <see cref="Diagnostic"/>).</summary>
    public FcTrainException(IReadOnlyList<Diagnostic> diagnostics, bool isUsage = false) : base(diagnostics[0].Message)
    {
        Diagnostics = diagnostics;
        IsUsage = isUsage;
    }

    public Diagnostic Diagnostic => Diagnostics[0];
    public IReadOnlyList<Diagnostic> Diagnostics { get; }
    /// <summary>The command line itself is wrong (a flag's value out of range, an unknown setting).</summary>
    public bool IsUsage { get; }

    /// <summary>An error about a file (or "fctrain" when none), with a stable code.</summary>
    public static FcTrainException Error(string code, string message, string file = "fctrain", int line = 0, int column = 0) =>
        new(new Diagnostic(file, line, column, Severity.Error, code, message));

    /// <summary>A usage error: the command line names a flag or value that cannot work.</summary>
    public static FcTrainException Usage(string code, string message) =>
        new([new Diagnostic("fctrain", 0, 0, Severity.Error, code, message)], isUsage: true);
}
