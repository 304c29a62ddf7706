namespace FcTrain.Cli;

/// <summary>The process exit codes of every fctrain command.</summary>
public static class ExitCodes
{
    public const int Success = 0;
    /// <summary>The input has errors (diagnostics were printed), or the work failed.</summary>
    public const int Errors = 1;
    /// <summary>The command line itself is wrong.</summary>
    public const int Usage = 2;
    /// <summary>fctrain itself failed (a bug): one line <c>internal error FCT9999</c>, the stack trace in obj/fctrain/.</summary>
    public const int InternalError = 3;
    /// <summary>Stopped by Ctrl-C or SIGTERM after saving a checkpoint (128 + SIGINT, the shell convention).</summary>
    public const int Interrupted = 130;
}
