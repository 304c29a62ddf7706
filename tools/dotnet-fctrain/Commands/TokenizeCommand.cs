using System.CommandLine;
using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Packing;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain tokenize [PATH…]</c>: render, tokenize and pack the datasets into shards (docs/shards.md) and
/// print their statistics. Precedence: defaults &lt; fctrain.json (<c>shards</c>, <c>train.maxSeqLength</c>) &lt; flags.
/// </summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "Dataset folders or files (default: every dataset under ./datasets).", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string?>("--out") { Description = "Shards folder (default: fctrain.json 'shards', else obj/fctrain/shards)." };
        var config = new Option<string?>("--config") { Description = "Settings file (default: ./fctrain.json when present)." };
        var maxSeqLength = new Option<int?>("--max-seq-length") { Description = "Tokens per packed row (default: fctrain.json train.maxSeqLength, else 1500)." };
        var truncate = new Option<bool>("--truncate") { Description = "Cut conversations longer than max_seq_length instead of failing (FCT0130)." };
        var trainOn = new Option<string?>("--train-on") { Description = "assistant (model turns) or all (default: each dataset's template.train_on)." };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "A model folder with tokenizer.json (default: the embedded Gemma tokenizer)." };
        var resultFile = new Option<string?>("--result-file") { Description = "Write the path of manifest.json there (one line), for MSBuild." };
        var lockTimeout = LockOption.Create();
        var command = new Command("tokenize", "Render, tokenize and pack datasets into training shards.")
            { paths, output, config, maxSeqLength, truncate, trainOn, tokenizer, resultFile, lockTimeout };
        command.SetAction(parse =>
        {
            string root = Directory.GetCurrentDirectory();
            var (configShards, configMax) = ReadConfig(parse.GetValue(config), root);
            var settings = new TokenizeSettings(
                OutputDirectory: parse.GetValue(output) ?? configShards ?? "obj/fctrain/shards",
                MaxSeqLength: parse.GetValue(maxSeqLength) ?? configMax ?? 1500,
                Truncate: parse.GetValue(truncate),
                TrainOn: parse.GetValue(trainOn),
                TokenizerFolder: parse.GetValue(tokenizer));
            if (settings.MaxSeqLength < 2) throw FcTrainException.Error("FCT0135", $"--max-seq-length {settings.MaxSeqLength} is too small: a row needs at least 2 tokens.");
            if (settings.TrainOn is not (null or "assistant" or "all")) throw FcTrainException.Error("FCT0122", $"unknown --train-on '{settings.TrainOn}': use 'assistant' (model turns only) or 'all'.");

            using var workspace = LockOption.Acquire(parse, lockTimeout, "fctrain tokenize");
            Log("loading and validating datasets");
            LoadResult loaded = DatasetLoader.Load(root, parse.GetValue(paths) ?? []);
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
            if (parse.GetValue(resultFile) is { } file) AtomicFile.WriteAllText(Path.GetFullPath(file, root), result.ManifestPath + Environment.NewLine);
            return ExitCodes.Success;
        });
        return command;
    }

    private static void Log(string message) => Console.WriteLine($"fctrain tokenize: {message}");

    /// <summary>The two keys tokenize reads from the run settings; the train command validates the whole file against its schema.</summary>
    private static (string? Shards, int? MaxSeqLength) ReadConfig(string? path, string root)
    {
        string file = Path.GetFullPath(path ?? "fctrain.json", root);
        if (!File.Exists(file))
            return path is null ? (null, null) : throw FcTrainException.Error("FCT0301", "the settings file does not exist. Name an existing fctrain.json.", path);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var r = document.RootElement;
            string? shards = r.TryGetProperty("shards", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            int? max = r.TryGetProperty("train", out var t) && t.ValueKind == JsonValueKind.Object && t.TryGetProperty("maxSeqLength", out var m) && m.TryGetInt32(out int v) ? v : null;
            return (shards, max);
        }
        catch (JsonException e)
        {
            throw FcTrainException.Error("FCT0301", $"fctrain.json is not valid JSON: {e.Message.Split(" Path:")[0]} Fix the syntax at this position.", file, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1);
        }
    }
}
