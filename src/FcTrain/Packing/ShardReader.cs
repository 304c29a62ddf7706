using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Tokenization;

namespace FcTrain.Packing;

/// <summary>The shards of <c>fctrain tokenize</c>, read back for training and evaluation.</summary>
public sealed record ShardSet(IReadOnlyList<PackedRow> Train, IReadOnlyList<PackedRow> Eval, string ManifestJson, string ManifestSha256);

/// <summary>Reads the shards of <c>fctrain tokenize</c> (docs/tokenization.md, "Shards").</summary>
public static class ShardReader
{
    /// <summary>Reads <c>manifest.json</c> and the split files it names, checking each file's SHA-256 against it.</summary>
    public static ShardSet Read(string directory)
    {
        string manifestPath = Path.Combine(directory, ShardBuilder.ManifestFile);
        if (!File.Exists(manifestPath))
            throw FcTrainException.Error("FCT0132", $"no shards in '{directory}' (manifest.json is missing). Run 'fctrain tokenize' (or 'dotnet build -t:Train') first.", directory);
        byte[] bytes = File.ReadAllBytes(manifestPath);
        JsonNode manifest;
        try { manifest = JsonNode.Parse(bytes)!; }
        catch (JsonException e) { throw FcTrainException.Error("FCT0133", $"manifest.json is not valid JSON ({e.Message}). Run 'fctrain tokenize' again.", manifestPath); }
        if ((string?)manifest["format"] != ShardBuilder.ShardFormat)
            throw FcTrainException.Error("FCT0133", $"manifest.json is not a {ShardBuilder.ShardFormat} manifest. Run 'fctrain tokenize' again.", manifestPath);

        List<PackedRow> Split(string name)
        {
            var entry = manifest["splits"]?[name] ?? throw FcTrainException.Error("FCT0133", $"manifest.json lists no '{name}' split. Run 'fctrain tokenize' again.", manifestPath);
            string file = Path.Combine(directory, (string)entry["file"]!);
            if (!File.Exists(file) || ShardBuilder.Sha256(File.ReadAllBytes(file)) != (string?)entry["sha256"])
                throw FcTrainException.Error("FCT0134", $"{Path.GetFileName(file)} is missing or differs from the one manifest.json describes (a partial or mixed write). Run 'fctrain tokenize' again.", file);
            return ShardFile.Read(file);
        }
        return new ShardSet(Split("train"), Split("eval"), Encoding.UTF8.GetString(bytes), ShardBuilder.Sha256(bytes));
    }

    public const string TokenizerMismatch = "FCT0230";

    /// <summary>
    /// Training or evaluating with another tokenizer than the one the shards were made with gives wrong ids silently;
    /// this makes it an error. <paramref name="manifestJson"/> is the shards' <c>manifest.json</c> text (or the copy
    /// an adapter's <c>fctrain-run.json</c> keeps), <paramref name="model"/> names what the tokenizer belongs to.
    /// </summary>
    public static void CheckTokenizer(string manifestJson, GemmaTokenizer tokenizer, string model, string source)
    {
        var entry = JsonNode.Parse(manifestJson)?["tokenizer"];
        string? expected = (string?)entry?["sha256"];
        if (expected is null || expected == tokenizer.ContentHash) return;
        throw FcTrainException.Error(TokenizerMismatch,
            $"the shards were tokenized with tokenizer '{(string?)entry?["source"]}' ({expected[..Math.Min(12, expected.Length)]}…, tool_tokens " +
            $"{(string?)entry?["tool_tokens"]}), but the model '{model}' uses '{tokenizer.Source}' ({tokenizer.ContentHash[..12]}…, tool_tokens " +
            $"{ToolTokens.Name(tokenizer.ToolTokens)}): the ids would mean other tokens. Tokenize again for this model (fctrain tokenize " +
            "with the same settings), or use the model the shards were made for.", source);
    }
}
