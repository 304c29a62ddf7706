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

    /// <summary>
    /// The tokenizer the shards were made with (manifest <c>tokenizer</c>: source, tool_tokens, sha256), to be saved
    /// with an adapter and to size the vocabulary. A source folder is relative to the current directory, as
    /// <c>fctrain tokenize</c> recorded it; a tokenizer that changed since is FCT0136.
    /// </summary>
    public static GemmaTokenizer Tokenizer(string manifestJson)
    {
        var entry = JsonNode.Parse(manifestJson)!["tokenizer"]!;
        string source = (string)entry["source"]!;
        var mode = ToolTokens.ParseMode((string)entry["tool_tokens"]!, ShardBuilder.ManifestFile);
        if (source != "embedded" && !File.Exists(source))
            throw FcTrainException.Error("FCT0136", $"the shards were tokenized with '{source}', which is not there from the current directory. Run from the folder you tokenized in, or tokenize again.", ShardBuilder.ManifestFile);
        var tokenizer = source == "embedded" ? GemmaTokenizer.Embedded(mode) : GemmaTokenizer.FromFolder(Path.GetDirectoryName(Path.GetFullPath(source))!, mode);
        if (tokenizer.ContentHash != (string?)entry["sha256"])
            throw FcTrainException.Error("FCT0136", $"the tokenizer '{source}' differs from the one the shards were made with (sha256 in manifest.json). Tokenize again.", ShardBuilder.ManifestFile);
        return tokenizer;
    }
}
