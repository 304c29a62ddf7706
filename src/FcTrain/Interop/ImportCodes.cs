namespace FcTrain.Interop;

/// <summary>The stable codes of <c>fctrain import</c> and <c>fctrain export</c> (docs/diagnostics.md, FCT06xx).</summary>
public static class ImportCodes
{
    public const string MalformedInput = "FCT0601";
    public const string UnexpectedColumns = "FCT0602";
    public const string RecordShape = "FCT0603";
    public const string CallNotListed = "FCT0604";
    public const string InvalidArguments = "FCT0605";
    public const string BadMarkup = "FCT0606";
    public const string UnknownType = "FCT0607";
    public const string ConflictingFunction = "FCT0608";
    public const string DuplicateId = "FCT0609";
    public const string RuleViolation = "FCT0610";
    public const string FormatNotDetected = "FCT0611";
    public const string BadInputPath = "FCT0612";
    public const string OutputNotEmpty = "FCT0613";
}

/// <summary>Why one input record cannot be converted: a code and a message; the importer adds where it came from.</summary>
public sealed class RecordException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}
