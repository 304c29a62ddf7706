namespace FcTrain.Diagnostics;

public enum Severity { Warning, Error }

/// <summary>
/// One problem found in a user's file, printed in MSBuild's canonical form
/// <c>path(line,col): error FCT0001: message</c> so CI systems and IDEs annotate it.
/// Line and column are 1-based; 0 means "the whole file".
/// </summary>
public sealed record Diagnostic(string File, int Line, int Column, Severity Severity, string Code, string Message)
{
    public override string ToString()
    {
        string where = Line > 0 ? $"{File}({Line},{Column})" : File;
        string kind = Severity == Severity.Error ? "error" : "warning";
        return $"{where}: {kind} {Code}: {Message}";
    }
}
