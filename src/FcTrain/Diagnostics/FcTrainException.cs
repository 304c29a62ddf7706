namespace FcTrain.Diagnostics;

/// <summary>
/// A user's mistake or an unusable input (a missing model, a bad option, a truncated file):
/// the CLI prints <see cref="Diagnostic"/> in MSBuild's format and exits with code 1, never a stack trace.
/// </summary>
public sealed class FcTrainException(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;

    /// <summary>An error about a file (or "fctrain" when none), with a stable code.</summary>
    public static FcTrainException Error(string code, string message, string file = "fctrain", int line = 0, int column = 0) =>
        new(new Diagnostic(file, line, column, Severity.Error, code, message));
}
