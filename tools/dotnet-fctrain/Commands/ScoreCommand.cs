using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Models;
using FcTrain.SafeTensors;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain score --input-ids 2,651,…</c>: the model's next-token loss and log-probabilities on given ids, and optionally
/// its float32 logits as a safetensors file (<see cref="NextTokenScorer"/>).
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var adapter = CommonOptions.Adapter();
        var inputIds = new Option<string>("--input-ids") { Description = "Comma-separated token ids, e.g. 2,651,6037.", Required = true };
        var positionIds = new Option<string?>("--position-ids") { Description = "Comma-separated RoPE positions (default 0..n-1)." };
        var documentIds = new Option<string?>("--document-ids") { Description = "Comma-separated packed-document ids: attention stays within a document." };
        var logitsOut = new Option<string?>("--logits-out") { Description = "Write the float32 logits [seq, vocab] as safetensors tensor 'logits'." };
        var command = new Command("score", "Print JSON with the mean next-token loss and per-token log-probabilities of the given ids.")
            { adapter, inputIds, positionIds, documentIds, logitsOut };
        var settingsOptions = new SettingsOptions(command, SettingsOptions.ModelKeys);
        command.SetAction(parse =>
        {
            var settings = settingsOptions.Read(parse).Value;
            long[] ids = Ids(parse.GetValue(inputIds)!, "--input-ids");
            long[] positions = parse.GetValue(positionIds) is { } p ? Ids(p, "--position-ids") : [.. Enumerable.Range(0, ids.Length).Select(i => (long)i)];
            long[]? documents = parse.GetValue(documentIds) is { } d ? Ids(d, "--document-ids") : null;

            using var session = ModelSession.Open(settings, CommonOptions.FullPath(parse.GetValue(adapter)), ToolTokenMode.Reserved, Console.Error.WriteLine);
            using var scope = NewDisposeScope();
            var (scores, logits) = NextTokenScorer.Score(session.Model, ids, positions, documents);
            if (CommonOptions.FullPath(parse.GetValue(logitsOut)) is { } file) SafeTensorsWriter.Write(file, [("logits", logits)]);
            var result = new JsonObject
            {
                ["model"] = session.Resolved.Name,
                ["tokens"] = ids.Length,
                ["loss"] = scores.Loss,
                ["logprobs"] = new JsonArray([.. scores.LogProbs.Select(v => JsonValue.Create((double)v))]),
            };
            Console.WriteLine(result.ToJsonString());
            return ExitCodes.Success;
        });
        return command;
    }

    private static long[] Ids(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ids = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out ids[i]))
                throw FcTrainException.Usage(NextTokenScorer.BadIds, $"{option}: '{parts[i]}' is not a 64-bit integer. Give comma-separated integers, e.g. 2,651,6037.");
        return ids;
    }
}
