using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain score</c>: the model's next-token loss and log-probabilities on given ids, and optionally its float32
/// logits as a safetensors file: how anyone compares fctrain with another implementation of Gemma-2.
/// </summary>
internal static class ScoreCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "tiny, a model folder, or a Hub id.", DefaultValueFactory = _ => "tiny" };
        var adapter = new Option<string?>("--adapter") { Description = "A PEFT LoRA adapter folder to apply." };
        var inputIds = new Option<string>("--input-ids") { Description = "Comma-separated token ids, e.g. 2,651,6037.", Required = true };
        var positionIds = new Option<string?>("--position-ids") { Description = "Comma-separated RoPE positions (default 0..n-1)." };
        var documentIds = new Option<string?>("--document-ids") { Description = "Comma-separated packed-document ids: attention stays within a document." };
        var logitsOut = new Option<string?>("--logits-out") { Description = "Write the float32 logits [seq, vocab] as safetensors tensor 'logits'." };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var command = new Command("score", "Print JSON with the mean next-token loss and per-token log-probabilities of the given ids.")
            { model, adapter, inputIds, positionIds, documentIds, logitsOut, device };
        command.SetAction(parse =>
        {
            long[] ids = Ids(parse.GetValue(inputIds)!, "--input-ids");
            long[] positions = parse.GetValue(positionIds) is { } p ? Ids(p, "--position-ids") : [.. Enumerable.Range(0, ids.Length).Select(i => (long)i)];
            long[]? documents = parse.GetValue(documentIds) is { } d ? Ids(d, "--document-ids") : null;
            if (positions.Length != ids.Length || (documents is not null && documents.Length != ids.Length))
                throw FcTrainException.Error("FCT0217", "--position-ids and --document-ids need one value per input id.");

            var dev = Devices.Resolve(parse.GetValue(device)!);
            var resolved = ModelResolver.Resolve(parse.GetValue(model)!, Console.Error.WriteLine);
            using var lm = ModelLoader.Load(resolved.Folder, ScalarType.Float32, dev);
            if (parse.GetValue(adapter) is { } a) PeftAdapter.Load(lm, a);
            lm.eval();
            if (ids.Any(i => i < 0 || i >= lm.Config.VocabSize))
                throw FcTrainException.Error("FCT0217", $"--input-ids holds an id outside the vocabulary (0..{lm.Config.VocabSize - 1}).");

            using var _ = no_grad();
            using var scope = NewDisposeScope();
            Tensor Row(long[] values) => tensor(values).unsqueeze(0).to(dev);
            var logits = lm.forward(Row(ids), Row(positions), documents is null ? null : Row(documents))[0].to(ScalarType.Float32);   // (T, V)
            var logProbs = logits.log_softmax(-1);
            var next = tensor(ids[1..]).to(dev);
            var picked = logProbs[..^1].gather(1, next.unsqueeze(1)).squeeze(1).cpu();                                            // (T-1)
            // A transition into another packed document is not a prediction the model was asked to make.
            var scored = Enumerable.Range(0, ids.Length - 1).Where(t => documents is null || documents[t] == documents[t + 1]).ToList();
            float[] values = picked.data<float>().ToArray();
            double loss = scored.Count == 0 ? double.NaN : -scored.Average(t => (double)values[t]);

            if (parse.GetValue(logitsOut) is { } file) SafeTensorsWriter.Write(file, [("logits", logits)]);
            var result = new JsonObject
            {
                ["model"] = resolved.Name,
                ["tokens"] = ids.Length,
                ["loss"] = double.IsNaN(loss) ? null : loss,   // nothing predicted (one id, or only document starts)
                ["logprobs"] = new JsonArray([.. values.Select(v => JsonValue.Create((double)v))]),
            };
            Console.WriteLine(result.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            return ExitCodes.Success;
        });
        return command;
    }

    private static long[] Ids(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ids = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!long.TryParse(parts[i], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out ids[i]))
                throw FcTrainException.Error("FCT0217", $"{option} must be comma-separated integers (64-bit), e.g. 2,651,6037; '{parts[i]}' is not one.");
        if (ids.Length == 0) throw FcTrainException.Error("FCT0217", $"{option} is empty; pass at least one id, e.g. 2,651,6037.");
        return ids;
    }
}
