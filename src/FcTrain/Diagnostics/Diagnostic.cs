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
        string where = Line > 0 ? $"{OneLine(File)}({Line},{Column})" : OneLine(File);
        string kind = Severity == Severity.Error ? "error" : "warning";
        return $"{where}: {kind} {Code}: {OneLine(Message)}";
    }

    /// <summary>Control and line-separator characters (from a file name, or input text quoted in a message) as
    /// <c>\uXXXX</c>, so a diagnostic is always exactly one line.</summary>
    private static string OneLine(string text)
    {
        if (!text.Any(IsBreaking)) return text;
        var builder = new System.Text.StringBuilder(text.Length + 16);
        foreach (char c in text) builder.Append(IsBreaking(c) ? $"\\u{(int)c:x4}" : c);
        return builder.ToString();
    }

    private static bool IsBreaking(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
