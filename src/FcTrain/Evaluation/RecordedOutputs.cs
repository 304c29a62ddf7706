using System.Text.Json;
using FcTrain.Diagnostics;

namespace FcTrain.Evaluation;

/// <summary>
/// Model turns generated elsewhere (e.g. by transformers' <c>generate</c> on the same prompts, or an earlier run),
/// one JSON object a line: <c>{"id": "weather-004#3", "output": "&lt;tool_call&gt;…"}</c>. Scoring them with
/// fctrain's parser and metrics compares implementations on equal terms.
/// </summary>
public static class RecordedOutputs
{
    public const string BadFile = "FCT0404", MissingCase = "FCT0405";

    public static IReadOnlyDictionary<string, string> Load(string path, string displayPath)
    {
        if (!File.Exists(path)) throw FcTrainException.Error(BadFile, "the outputs file does not exist. Pass a JSONL file of {\"id\": …, \"output\": …} lines.", displayPath);
        var outputs = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Trim().Length == 0) continue;
            string? id = null, output = null;
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    if (doc.RootElement.TryGetProperty("id", out var i) && i.ValueKind == JsonValueKind.String) id = i.GetString();
                    if (doc.RootElement.TryGetProperty("output", out var o) && o.ValueKind == JsonValueKind.String) output = o.GetString();
                }
            }
            catch (JsonException e)
            {
                throw FcTrainException.Error(BadFile, $"not valid JSON: {e.Message.Split(" Path:")[0]} Each line must be one JSON object.", displayPath, lineNumber, (int)(e.BytePositionInLine ?? 0) + 1);
            }
            if (id is null || output is null)
                throw FcTrainException.Error(BadFile, "each line must be an object with string properties \"id\" (e.g. \"weather-004#3\") and \"output\" (the decoded model turn).", displayPath, lineNumber, 1);
            if (!outputs.TryAdd(id, output))
                throw FcTrainException.Error(BadFile, $"case '{id}' appears twice. Keep one output per case.", displayPath, lineNumber, 1);
        }
        return outputs;
    }

    /// <summary>A generator that looks the case up; a case without an output is an error naming it.</summary>
    public static Func<IReadOnlyList<EvalCase>, IReadOnlyList<GeneratedTurn>> Generator(IReadOnlyDictionary<string, string> outputs, string displayPath) =>
        cases => [.. cases.Select(c => outputs.TryGetValue(c.Id, out string? output) ? new GeneratedTurn(output)
            : throw FcTrainException.Error(MissingCase, $"no output for case '{c.Id}'. Record one line per assistant turn of the split.", displayPath))];
}
