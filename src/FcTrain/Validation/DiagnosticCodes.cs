namespace FcTrain.Validation;

/// <summary>The stable codes of data validation (docs/diagnostics.md): FCT00xx errors, FCT10xx warnings.</summary>
public static class DiagnosticCodes
{
    public const string MalformedJson = "FCT0001";
    public const string InvalidUtf8 = "FCT0002";
    public const string FileTooLarge = "FCT0003";
    public const string UnknownProperty = "FCT0004";
    public const string SchemaViolation = "FCT0005";
    public const string WrongSchemaReference = "FCT0006";
    public const string UnsupportedFile = "FCT0007";
    public const string NotADataset = "FCT0008";
    public const string DuplicateConversationId = "FCT0010";
    public const string DuplicateFunctionName = "FCT0011";
    public const string InvalidParametersSchema = "FCT0012";
    public const string UndefinedFunction = "FCT0013";
    public const string CallToFunctionNotOffered = "FCT0014";
    public const string InvalidArguments = "FCT0015";
    public const string ResponseWithoutCall = "FCT0016";
    public const string CallWithoutResponse = "FCT0017";
    public const string ImpossibleRoleOrder = "FCT0018";
    public const string AmbiguousToolResponse = "FCT0019";
    public const string FieldNotAllowedForRole = "FCT0020";
    public const string MissingContent = "FCT0021";
    public const string DuplicateCallId = "FCT0022";
    public const string UnknownEvalId = "FCT0023";

    public const string FunctionNeverCalled = "FCT1001";
    public const string NoAssistantTurn = "FCT1002";
    public const string GlobMatchesNothing = "FCT1003";
    public const string EmptySplit = "FCT1004";
}
