namespace FcTrain.Validation;

/// <summary>
/// The stable codes of data validation (docs/diagnostics.md has one row each).
/// FCT00xx are errors, FCT10xx warnings. Never renumber: users and CI filter on them.
/// </summary>
public static class DiagnosticCodes
{
    public const string MalformedJson = "FCT0001";
    public const string InvalidUtf8 = "FCT0002";
    public const string TooLarge = "FCT0003";
    public const string SchemaViolation = "FCT0004";
    public const string UnknownProperty = "FCT0005";
    public const string WrongSchema = "FCT0006";
    public const string Duplicate = "FCT0007";
    public const string CallNotOffered = "FCT0008";
    public const string UnknownFunction = "FCT0009";
    public const string InvalidArguments = "FCT0010";
    public const string InvalidParametersSchema = "FCT0011";
    public const string ResponseWithoutCall = "FCT0012";
    public const string CallWithoutResponse = "FCT0013";
    public const string RoleOrder = "FCT0014";
    public const string MessageShape = "FCT0015";
    public const string UnknownEvalId = "FCT0016";
    public const string PathNotFound = "FCT0017";
    public const string RefOutsideFile = "FCT0018";
    public const string PatternTimeout = "FCT0019";
    public const string UnrepresentableValue = "FCT0020";
    public const string GlobOutsideDataset = "FCT0021";
    public const string LinkOutsideRepository = "FCT0022";

    public const string FunctionNeverCalled = "FCT1001";
    public const string NoAssistantTurn = "FCT1002";
    public const string GlobMatchesNothing = "FCT1003";
}
