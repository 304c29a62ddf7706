using System.CommandLine;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.IO;
using FcTrain.Snapshots;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain snapshot --model M --adapter A [--split train] [--accept]</c>: the tool calls of the model on each
/// dataset's split must equal <c>datasets/NAME/snapshots/SPLIT.verified.json</c>; on a mismatch the received
/// file is written beside it and the command fails with a diff naming the cases (the last step of
/// <c>dotnet build -t:Train</c>). <c>--accept</c> makes the current behaviour the verified one.
/// </summary>
internal static class SnapshotCommand
{
    public const string Mismatch = "FCT0401", New = "FCT0402";

    public static Command Create()
    {
        var o = new EvalCommandOptions(defaultSplit: "train");
        var accept = new Option<bool>("--accept") { Description = "Accept the current tool calls: write them to the verified files." };
        var command = new Command("snapshot", "Check the model's tool calls against the verified snapshot files of the datasets.") { accept };
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var (options, root) = o.Read(parse);
            return Run(root, options, parse.GetValue(accept), Console.Out);
        });
        return command;
    }

    internal static int Run(string repoRoot, EvalOptions options, bool accept, TextWriter output)
    {
        var progress = new ProgressLines(output, inPlace: output == Console.Out && !Console.IsOutputRedirected);
        var (report, datasets, diagnostics) = EvalSession.Run(repoRoot, options, progress.Write);
        progress.End();
        foreach (var diagnostic in diagnostics) output.WriteLine(diagnostic);
        if (report is null) return ExitCodes.Errors;

        var settings = ToolCallSnapshot.Settings(repoRoot);
        var outcomes = ToolCallSnapshot.Check(report, datasets, repoRoot, accept);
        int failed = 0;
        foreach (SnapshotResult r in outcomes)
        {
            string verified = settings.Display(r.VerifiedPath), received = settings.Display(r.ReceivedPath);
            switch (r.Status)
            {
                case SnapshotStatus.Matched:
                    output.WriteLine($"fctrain snapshot: {verified} matches.");
                    break;
                case SnapshotStatus.Accepted:
                    output.WriteLine($"fctrain snapshot: accepted {verified} ({Cases(r)}).");
                    break;
                case SnapshotStatus.New:
                    failed++;
                    output.WriteLine(new Diagnostic(verified, 0, 0, Severity.Error, New,
                        $"no verified snapshot yet; wrote {received}. Review it, then run 'dotnet fctrain snapshot --accept' and commit {verified}."));
                    break;
                default:
                    failed++;
                    output.WriteLine(new Diagnostic(verified, 0, 0, Severity.Error, Mismatch,
                        $"the tool calls differ from the verified snapshot in {Cases(r)}; wrote {received}. If the change is intended, " +
                        "run 'dotnet fctrain snapshot --accept' and commit the verified file; otherwise fix the data or settings."));
                    // The diff as plain lines (indented, so no line can read as a diagnostic in the build log).
                    foreach (string line in r.Diff.TrimEnd('\n').Split('\n')) output.WriteLine("    " + line);
                    break;
            }
        }
        if (report.SmallestMargin is { } smallest)
            output.WriteLine($"fctrain snapshot: smallest greedy logit margin {smallest.MinMargin:0.000} ({smallest.Case.Id}).");
        var total = report.Total;
        output.WriteLine($"fctrain snapshot: {outcomes.Count} snapshot(s), {failed} failed; {total.Accuracy.Count}/{total.Cases} case(s) match the gold turns.");
        return failed > 0 ? ExitCodes.Errors : ExitCodes.Success;
    }

    private static string Cases(SnapshotResult r) =>
        r.ChangedSections.Count switch
        {
            0 => "no case",
            1 => $"case {r.ChangedSections[0]}",
            <= 10 => $"{r.ChangedSections.Count} cases ({string.Join(", ", r.ChangedSections)})",
            _ => $"{r.ChangedSections.Count} cases ({string.Join(", ", r.ChangedSections.Take(10))}, …)",
        };
}
