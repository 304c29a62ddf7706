using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.IO;
using FcTrain.Settings;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain eval --model M [--adapter A] [--split eval|train] [--json FILE] [--details]</c>: generate a turn for
/// every assistant turn of the split, parse and check the tool calls, print BFCL-style metrics per category.
/// </summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var o = new EvalCommandOptions(defaultSplit: "eval");
        var json = new Option<string?>("--json") { Description = "Write the metrics (and with --details every case) as JSON to this file." };
        var details = new Option<bool>("--details") { Description = "Print one line per case and add the cases to the JSON." };
        var command = new Command("eval", "Evaluate the tool calls of a model (and adapter) on a dataset split.") { json, details };
        o.AddTo(command);
        command.SetAction(parse =>
        {
            var (options, root) = o.Read(parse);
            return Run(root, options, CommonOptions.FullPath(parse.GetValue(json)), parse.GetValue(details), Console.Out);
        });
        return command;
    }

    internal static int Run(string repoRoot, EvalOptions options, string? jsonFile, bool details, TextWriter output)
    {
        var progress = new ProgressLines(output, inPlace: !details && output == Console.Out && !Console.IsOutputRedirected);
        var (report, _, diagnostics) = EvalSession.Run(repoRoot, options, progress.Write);
        progress.End();
        foreach (var diagnostic in diagnostics) output.WriteLine(diagnostic);
        if (report is null) return ExitCodes.Errors;

        if (details)
            foreach (var r in report.Results.Where(r => !r.Correct))
                output.WriteLine($"  {r.Case.Id}: expected {Expected(r.Case)}, got {Got(r)}");
        output.Write(report.FormatTable());
        if (report.SmallestMargin is { } smallest)
            output.WriteLine($"smallest greedy logit margin: {smallest.MinMargin:0.000} ({smallest.Case.Id})");
        if (jsonFile is not null)
        {
            string path = Path.GetFullPath(jsonFile, repoRoot);
            AtomicFile.WriteAllText(path, report.ToJson(details).ToJsonString(Indented) + "\n");
            output.WriteLine($"fctrain eval: wrote {jsonFile}");
        }
        return ExitCodes.Success;
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Expected(EvalCase c) =>
        c.ExpectsCall ? string.Join(" ", c.ExpectedCalls.Select(CaseResult.CallKey)) : c.ExpectedKind.Name();

    private static string Got(CaseResult r) => r.Parsed switch
    {
        { Failure: { } f } => $"parse failure ({f.Reason})",
        { Calls.Count: > 0 } p => string.Join(" ", p.Calls.Select(CaseResult.CallKey)),
        var p => p.Kind.Name(),
    };
}

/// <summary>The options <c>eval</c> and <c>snapshot</c> share, mapped onto <see cref="EvalOptions"/>.</summary>
internal sealed class EvalCommandOptions(string defaultSplit)
{
    public readonly Argument<string[]> Paths = CommonOptions.Datasets();
    public readonly Option<string?> Adapter = CommonOptions.Adapter();
    public readonly Option<string> Split = new("--split") { Description = "Which split's assistant turns to evaluate.", DefaultValueFactory = _ => defaultSplit };
    public readonly Option<string?> Outputs = new("--outputs") { Description = "Score recorded model turns (JSONL of {\"id\", \"output\"}) instead of generating." };
    private SettingsOptions? _settings;

    public void AddTo(Command command)
    {
        Split.AcceptOnlyFromAmong("eval", "train");
        command.Arguments.Add(Paths);
        foreach (Option option in new Option[] { Adapter, Split, Outputs }) command.Options.Add(option);
        _settings = new SettingsOptions(command, [.. SettingsOptions.ModelKeys, "eval.maxNewTokens", "eval.batchSize"]);
    }

    /// <summary>The options, and the workspace root the datasets are relative to.</summary>
    public (EvalOptions Options, string Root) Read(ParseResult parse)
    {
        string[] datasets = CommonOptions.FullPaths(parse.GetValue(Paths));
        var effective = _settings!.Read(parse, datasets.FirstOrDefault());
        return (new EvalOptions
        {
            Datasets = datasets,
            Split = parse.GetValue(Split) == "train" ? Data.Split.Train : Data.Split.Eval,
            Settings = effective.Value,
            Adapter = CommonOptions.FullPath(parse.GetValue(Adapter)),
            Outputs = CommonOptions.FullPath(parse.GetValue(Outputs)),
        }, effective.Workspace.Root);
    }
}

/// <summary>
/// Progress of a long run: plain lines when the output is redirected (MSBuild, CI) or every line is wanted;
/// on a terminal, the per-case lines (starting with '[') rewrite one line in place.
/// </summary>
internal sealed class ProgressLines(TextWriter output, bool inPlace)
{
    private bool _open;

    public void Write(string line)
    {
        if (inPlace && line.StartsWith('['))
        {
            output.Write("\r" + line + "\u001b[K");
            _open = true;
            return;
        }
        End();
        output.WriteLine(line);
    }

    public void End()
    {
        if (_open) output.WriteLine();
        _open = false;
    }
}
