namespace FcTrain.Serving;

/// <summary>The stable codes of the serving files <c>fctrain merge</c> writes (docs/diagnostics.md, FCT0614–FCT0629).</summary>
public static class ServingCodes
{
    public const string HermesNotExpressible = "FCT0614";
    public const string TemplatesDisagree = "FCT0615";
    public const string ToolTokensDisagree = "FCT0616";
}
