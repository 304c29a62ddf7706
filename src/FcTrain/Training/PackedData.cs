using FcTrain.Diagnostics;
using FcTrain.Packing;
using FcTrain.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>
/// One micro-batch on the device. <c>Targets</c> are the labels shifted left by one (what position t must predict),
/// -100 where nothing is trained: unlabelled tokens, the last token of each packed document (its successor
/// belongs to the next conversation) and padding.
/// </summary>
public sealed record Batch(Tensor InputIds, Tensor PositionIds, Tensor DocumentIds, Tensor Targets); // each (B, T), int64

/// <summary>The train and eval splits of the packed shards (<c>fctrain tokenize</c>), in memory, with their manifest.</summary>
public sealed class PackedData
{
    public const int IgnoreIndex = -100;

    public required IReadOnlyList<PackedRow> Train { get; init; }
    public required IReadOnlyList<PackedRow> Eval { get; init; }
    public required string ManifestJson { get; init; }
    public required string ManifestSha256 { get; init; }
    /// <summary>The <c>manifest.json</c> the rows were read from (for messages).</summary>
    public string ManifestPath { get; init; } = "manifest.json";
    /// <summary>How the shards' tokenizer placed the tool markup (the manifest's <c>tokenizer.tool_tokens</c>).</summary>
    public ToolTokenMode ToolTokens =>
        Tokenization.ToolTokens.ParseMode((string?)System.Text.Json.Nodes.JsonNode.Parse(ManifestJson)?["tokenizer"]?["tool_tokens"] ?? "reserved");
    public long TrainTokens => Train.Sum(r => (long)r.InputIds.Length);
    public long TrainLabelled => Train.Sum(r => (long)TrainedTokens(r));

    /// <summary>Reads the shards of <c>fctrain tokenize</c> and checks them against the training settings.</summary>
    public static PackedData Open(string shards, int maxSeqLength)
    {
        var set = ShardReader.Read(shards);
        string manifest = Path.Combine(shards, ShardBuilder.ManifestFile);
        var data = new PackedData { Train = set.Train, Eval = set.Eval, ManifestJson = set.ManifestJson, ManifestSha256 = set.ManifestSha256, ManifestPath = manifest };
        data.Validate(maxSeqLength, manifest);
        return data;
    }

    /// <summary>Checks the rows against the training settings.</summary>
    public void Validate(int maxSeqLength, string source)
    {
        if (Train.Count == 0)
            throw FcTrainException.Error("FCT0313", "the train split of the shards is empty: there is nothing to train on. Add conversations to the train split of a dataset and tokenize again.", source);
        if (Train.Concat(Eval).FirstOrDefault(r => r.InputIds.Length > maxSeqLength) is { } tooLong)
            throw FcTrainException.Error("FCT0314", $"a packed row has {tooLong.InputIds.Length} tokens, more than max_seq_length {maxSeqLength}. Tokenize with the same max_seq_length as training.", source);
    }

    /// <summary>Every token id must have a row in the model's embeddings; checked before the first step, where an
    /// id beyond the vocabulary would fail inside libtorch.</summary>
    public void CheckVocabulary(long vocabSize)
    {
        long max = -1, min = 0;
        foreach (var row in Train.Concat(Eval))
            foreach (var id in row.InputIds.Concat(row.Labels.Where(l => l != IgnoreIndex)))
            {
                if (id > max) max = id;
                if (id < min) min = id;
            }
        if (max >= vocabSize || min < 0)
            throw FcTrainException.Error("FCT0315",
                $"the shards hold token id {(min < 0 ? min : max)}, outside the model's vocabulary of {vocabSize} ids. The shards were tokenized for another model or tool_tokens setting: tokenize again for this model.", ManifestPath);
    }

    /// <summary>Positions whose next token is trained: the count the loss is averaged over.</summary>
    public static int TrainedTokens(PackedRow row)
    {
        int n = 0;
        for (int t = 0; t + 1 < row.InputIds.Length; t++)
            if (row.Labels[t + 1] != IgnoreIndex && row.DocumentIds[t + 1] == row.DocumentIds[t]) n++;
        return n;
    }

    /// <summary>Pads the rows to the longest and moves them to the device (padding: token 0, its own document, no target).</summary>
    public static Batch Collate(IReadOnlyList<PackedRow> rows, Device device)
    {
        int b = rows.Count, length = rows.Max(r => r.InputIds.Length);
        var ids = new long[b * length];
        var positions = new long[b * length];
        var documents = new long[b * length];
        var targets = new long[b * length];
        Array.Fill(documents, -1);
        Array.Fill(targets, IgnoreIndex);
        for (int i = 0; i < b; i++)
        {
            var row = rows[i];
            for (int t = 0; t < row.InputIds.Length; t++)
            {
                int at = i * length + t;
                ids[at] = row.InputIds[t];
                positions[at] = row.PositionIds[t];
                documents[at] = row.DocumentIds[t];
                if (t + 1 < row.InputIds.Length && row.DocumentIds[t + 1] == row.DocumentIds[t]) targets[at] = row.Labels[t + 1];
            }
        }
        Tensor Put(long[] values) => tensor(values, [b, length], ScalarType.Int64).to(device);
        return new Batch(Put(ids), Put(positions), Put(documents), Put(targets));
    }
}
