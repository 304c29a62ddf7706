using FcTrain.Diagnostics;

namespace FcTrain.Tests.Diagnostics;

public class InternalErrorTests
{
    [Fact]
    public void Report_is_one_line_and_the_stack_trace_goes_to_obj_fctrain()
    {
        string workspace = Directory.CreateTempSubdirectory("fctrain-internal-").FullName;
        Exception thrown;
        try { throw new InvalidOperationException("state broke\nsecond line"); }
        catch (InvalidOperationException e) { thrown = e; }

        string line = InternalError.Report(thrown, workspace);

        Assert.Matches(@"^fctrain: internal error FCT9999: InvalidOperationException: state broke \(details in obj/fctrain/internal-error-[0-9-]+\.log; please report\)$", line);
        string log = Assert.Single(Directory.GetFiles(Path.Combine(workspace, "obj/fctrain")));
        string text = File.ReadAllText(log);
        Assert.Contains("second line", text);
        Assert.Contains(nameof(Report_is_one_line_and_the_stack_trace_goes_to_obj_fctrain), text);
    }

    [Fact]
    public void A_user_error_inside_an_aggregate_is_still_a_user_error()
    {
        var known = FcTrainException.Error("FCT0201", "missing", "x");

        Assert.Same(known, InternalError.UserError(new AggregateException(new AggregateException(known))));
        Assert.Same(known, InternalError.UserError(known));
        Assert.Null(InternalError.UserError(new AggregateException(new InvalidOperationException())));
    }
}
