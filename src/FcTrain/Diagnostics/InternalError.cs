namespace FcTrain.Diagnostics;

/// <summary>
/// An exception nobody expected: a bug of fctrain, never a user's mistake (those are <see cref="FcTrainException"/>).
/// The user sees one line; the stack trace goes to a log file under <c>obj/fctrain/</c> of the workspace.
/// </summary>
public static class InternalError
{
    public const string Code = "FCT9999";

    /// <summary>The <see cref="FcTrainException"/> an exception carries, also inside an AggregateException
    /// (parallel loops wrap what they throw), or null.</summary>
    public static FcTrainException? UserError(Exception e) => e switch
    {
        FcTrainException known => known,
        AggregateException { InnerExceptions.Count: > 0 } all => all.Flatten().InnerExceptions.OfType<FcTrainException>().FirstOrDefault(),
        _ => null,
    };

    /// <summary>Writes the exception to a new log file under <c>obj/fctrain/</c> of <paramref name="workspace"/> and
    /// returns the line to show: <c>fctrain: internal error FCT9999: … (please report)</c>.</summary>
    public static string Report(Exception e, string workspace)
    {
        string summary = $"{e.GetType().Name}: {FirstLine(e.Message)}";
        string where;
        try
        {
            string folder = Path.Combine(workspace, "obj", "fctrain");
            Directory.CreateDirectory(folder);
            string log = Path.Combine(folder, $"internal-error-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
            File.WriteAllText(log, $"fctrain {typeof(InternalError).Assembly.GetName().Version}, {DateTime.UtcNow:O}\n"
                + $"command line: {Environment.CommandLine}\n\n{e}\n");
            where = $"details in {Path.GetRelativePath(workspace, log).Replace('\\', '/')}";
        }
        catch (Exception logFailure) when (logFailure is IOException or UnauthorizedAccessException)
        {
            where = $"no log written: {FirstLine(logFailure.Message)}";
        }
        return $"fctrain: internal error {Code}: {summary} ({where}; please report)";
    }

    private static string FirstLine(string text)
    {
        int end = text.IndexOfAny(['\r', '\n']);
        return end < 0 ? text : text[..end];
    }
}
