using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Interop;

public enum ExportFormat { OpenAi, Hf, Tokenized }

/// <summary>One file an export wrote, and how many rows it holds.</summary>
public sealed record ExportedFile(string Path, Split Split, int Rows);

/// <summary>
/// Writes loaded datasets for other tools, one JSONL file per split (<c>train.jsonl</c>, <c>eval.jsonl</c>) under the
/// output folder, conversations in dataset then file order: OpenAI fine-tuning records, transformers chat-template
/// input, or fctrain's exact tokenization (one unpacked row per conversation: <c>input_ids</c>, <c>attention_mask</c>,
/// <c>labels</c> with -100 where not trained).
/// </summary>
public static class Exporter
{
    public static ExportFormat? ParseFormat(string? name) => name switch
    {
        "openai" => ExportFormat.OpenAi,
        "hf" => ExportFormat.Hf,
        "tokenized" => ExportFormat.Tokenized,
        _ => null,
    };

    /// <param name="tokenizer">The model's tokenizer for a tool-token mode (only <see cref="ExportFormat.Tokenized"/> calls it).</param>
    public static IReadOnlyList<ExportedFile> Run(IReadOnlyList<Dataset> datasets, ExportFormat format, string outDirectory, Func<ToolTokenMode, GemmaTokenizer> tokenizer)
    {
        GemmaTokenizer? tokens = null;
        if (format == ExportFormat.Tokenized)
        {
            var modes = datasets.Select(d => d.Manifest.Template.ToolTokens).Distinct().ToList();
            if (modes.Count > 1)
                throw FcTrainException.Error("FCT0131", $"the datasets disagree on template.tool_tokens ({string.Join(", ", modes)}): one model has one tokenizer. Use the same tool_tokens in every dataset exported together.");
            tokens = tokenizer(ToolTokens.ParseMode(modes.FirstOrDefault() ?? "reserved"));
        }
        var files = new List<ExportedFile>();
        foreach (var split in new[] { Split.Train, Split.Eval })
        {
            string path = Path.Combine(Path.GetFullPath(outDirectory), split == Split.Train ? "train.jsonl" : "eval.jsonl");
            int rows = 0;
            AtomicFile.Write(path, stream =>
            {
                using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = DatasetJson.Compact.Encoder });
                foreach (var dataset in datasets)
                {
                    var functions = dataset.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
                    foreach (var (conversation, s) in dataset.Conversations)
                    {
                        if (s != split) continue;
                        var row = format switch
                        {
                            ExportFormat.OpenAi => OpenAiFormat.Write(conversation, functions),
                            ExportFormat.Hf => HfFormat.Write(conversation, functions),
                            _ => Tokenized(conversation, dataset, tokens!),
                        };
                        row.WriteTo(writer);
                        writer.Flush();
                        stream.WriteByte((byte)'\n');
                        writer.Reset();
                        rows++;
                    }
                }
            });
            files.Add(new ExportedFile(path, split, rows));
        }
        return files;
    }

    /// <summary>A conversation as fctrain trains on it: the template's segments through the model's tokenizer, unpacked.</summary>
    public static JsonObject Tokenized(Conversation conversation, Dataset dataset, GemmaTokenizer tokenizer)
    {
        var segments = ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template);
        var tokens = TokenizedConversation.From(conversation.Id, segments, tokenizer, conversation.Source);
        return new JsonObject
        {
            ["id"] = conversation.Id,
            ["input_ids"] = new JsonArray(tokens.InputIds.Select(i => (JsonNode?)i).ToArray()),
            ["attention_mask"] = new JsonArray(tokens.InputIds.Select(_ => (JsonNode?)1).ToArray()),
            ["labels"] = new JsonArray(tokens.Labels.Select(i => (JsonNode?)i).ToArray()),
        };
    }
}
