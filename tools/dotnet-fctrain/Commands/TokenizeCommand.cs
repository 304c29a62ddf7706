using System.CommandLine;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models;
using FcTrain.Packing;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain tokenize [PATH…]</c>: render, tokenize and pack the datasets into shards (docs/tokenization.md) and
/// print their statistics. The tokenizer is the model's (setting <c>model</c>), the one training will check against.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var paths = CommonOptions.Datasets();
        var truncate = new Option<bool>("--truncate") { Description = "Cut conversations longer than train.maxSeqLength instead of failing (FCT0130)." };
        var trainOn = new Option<string?>("--train-on") { Description = "assistant (model turns) or all (default: each dataset's template.train_on)." };
        trainOn.AcceptOnlyFromAmong("assistant", "all");
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A model folder whose tokenizer.json to use instead of the model's." };
        var lockTimeout = LockOption.Create();
        var command = new Command("tokenize", "Render, tokenize and pack datasets into training shards.") { paths, truncate, trainOn, tokenizer, lockTimeout };
        var settingsOptions = new SettingsOptions(command, "shards", "train.maxSeqLength", "model");
        command.SetAction(parse =>
        {
            string[] datasets = CommonOptions.FullPaths(parse.GetValue(paths));
            var effective = settingsOptions.Read(parse, datasets.FirstOrDefault());
            string root = effective.Workspace.Root;
            var settings = new TokenizeSettings(
                OutputDirectory: effective.Value.Shards,
                MaxSeqLength: effective.Value.MaxSeqLength,
                Truncate: parse.GetValue(truncate),
                TrainOn: parse.GetValue(trainOn),
                TokenizerFolder: parse.GetValue(tokenizer) is { } folder
                    ? Path.GetFullPath(folder)
                    : ModelResolver.Resolve(effective.Value.Model, Log).Folder);

            using var workspace = LockOption.Acquire(parse, lockTimeout, "fctrain tokenize", root);
            Log("loading and validating datasets");
            LoadResult loaded = DatasetLoader.Load(root, datasets);
            foreach (var d in loaded.Diagnostics) Console.WriteLine(d);
            if (loaded.HasErrors) return ExitCodes.Errors;

            Log($"rendering and tokenizing {loaded.Datasets.Sum(d => d.Conversations.Count)} conversation(s)");
            var diagnostics = new List<Diagnostic>();
            var result = ShardBuilder.Build(root, loaded.Datasets, settings, diagnostics);
            foreach (var d in diagnostics) Console.WriteLine(d);
            if (result is null) return ExitCodes.Errors;

            foreach (var (name, s) in new[] { ("train", result.Train), ("eval", result.Eval) })
            {
                string truncated = s.Truncated > 0 ? $", {s.Truncated} truncated" : "";
                Console.WriteLine(FormattableString.Invariant(
                    $"fctrain tokenize: {name}: {s.Conversations} conversation(s), {s.Tokens:N0} tokens in {s.Rows} row(s) of <= {s.MaxSeqLength}, trained {s.TrainedShare:P1}, packing efficiency {s.PackingEfficiency:P1}, longest conversation {s.LongestId ?? "-"} ({s.LongestTokens} tokens){truncated}"));
            }
            string shown = Path.GetRelativePath(root, result.ManifestPath).Replace('\\', '/');
            Console.WriteLine($"fctrain tokenize: wrote {(shown.StartsWith("../", StringComparison.Ordinal) ? result.ManifestPath : shown)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Log(string message) => Console.WriteLine($"fctrain tokenize: {message}");
}
