using FcTrain.Settings;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Packing;
using FcTrain.Tokenization;
using FcTrain.Models;

namespace FcTrain.Tests.Packing;

public class ShardBuilderTests
{
    [Fact]
    [Trait("Category", "Slow")]
    public void Added_tool_tokens_give_markup_ids_256000_on_and_the_manifest_names_the_tokenizer_training_reloads()
    {
        var weather = DatasetLoader.Load(RepoPaths.Root, []).Datasets.Single(d => d.Manifest.Name == "weather");
        var added = weather with { Manifest = weather.Manifest with { Template = weather.Manifest.Template with { ToolTokens = "added" } } };
        string outDir = Directory.CreateTempSubdirectory("fctrain-shards-").FullName;
        try
        {
            var diagnostics = new List<Diagnostic>();
            ShardBuilder.Build(RepoPaths.Root, [added], new TokenizeSettings(outDir, new FcTrainSettings().MaxSeqLength), diagnostics);
            Assert.Empty(diagnostics);
            var shards = ShardReader.Read(outDir);
            var ids = shards.Train.SelectMany(r => r.InputIds).ToHashSet();
            Assert.Contains(256000, ids);   // <tools> of the preamble
            Assert.Contains(256004, ids);   // <tool_call>
            Assert.DoesNotContain(ids, i => i is >= 7 and <= 14);   // nothing on the reserved <unusedN> pieces

            // The model's tokenizer in added mode is the one training checks the shards against.
            var tokenizer = ModelSession.TokenizerFor(new FcTrainSettings(), ToolTokenMode.Added, _ => { });
            Assert.Equal(256008, tokenizer.VocabSize);
            Assert.Equal(Enumerable.Range(256000, 8), tokenizer.MarkupIds);
            ShardReader.CheckTokenizer(shards.ManifestJson, tokenizer, "tiny", "manifest.json");
            var e = Assert.Throws<FcTrainException>(() =>
                ShardReader.CheckTokenizer(shards.ManifestJson, ModelSession.TokenizerFor(new FcTrainSettings(), ToolTokenMode.Reserved, _ => { }), "tiny", "manifest.json"));
            Assert.Equal(ShardReader.TokenizerMismatch, e.Diagnostic.Code);
        }
        finally { Directory.Delete(outDir, true); }
    }

    [Fact]
    public void Sample_datasets_tokenize_into_shards_that_read_back_deterministically()
    {
        var loaded = DatasetLoader.Load(RepoPaths.Root, []);
        Assert.False(loaded.HasErrors, string.Join("\n", loaded.Diagnostics));
        string outDir = Directory.CreateTempSubdirectory("fctrain-shards-").FullName;
        try
        {
            var diagnostics = new List<Diagnostic>();
            var result = ShardBuilder.Build(RepoPaths.Root, loaded.Datasets, new TokenizeSettings(outDir, new FcTrainSettings().MaxSeqLength), diagnostics);
            Assert.Empty(diagnostics);
            Assert.NotNull(result);
            int conversations = loaded.Datasets.Sum(d => d.Conversations.Count);
            Assert.Equal(conversations, result.Train.Conversations + result.Eval.Conversations);
            Assert.InRange(result.Train.TrainedShare, 0.05, 0.9);

            var shards = ShardReader.Read(outDir);
            Assert.Equal(result.Train.Rows, shards.Train.Count);
            Assert.Equal(result.Train.Tokens, shards.Train.Sum(r => (long)r.InputIds.Length));
            Assert.All(shards.Train.Concat(shards.Eval), r => Assert.True(r.InputIds.Length <= 1500));
            var manifest = JsonNode.Parse(shards.ManifestJson)!;
            Assert.Equal("reserved", (string?)manifest["tokenizer"]!["tool_tokens"]);
            Assert.Equal(loaded.Datasets.Count, manifest["datasets"]!.AsArray().Count);

            // Same input, same bytes.
            byte[] first = File.ReadAllBytes(Path.Combine(outDir, "train.safetensors"));
            ShardBuilder.Build(RepoPaths.Root, loaded.Datasets, new TokenizeSettings(outDir, new FcTrainSettings().MaxSeqLength), diagnostics);
            Assert.Equal(first, File.ReadAllBytes(Path.Combine(outDir, "train.safetensors")));
            Assert.Equal(shards.ManifestJson, File.ReadAllText(Path.Combine(outDir, "manifest.json")));
        }
        finally { Directory.Delete(outDir, true); }
    }

    [Fact]
    public void A_changed_shard_is_detected()
    {
        var loaded = DatasetLoader.Load(RepoPaths.Root, []);
        string outDir = Directory.CreateTempSubdirectory("fctrain-shards-").FullName;
        try
        {
            ShardBuilder.Build(RepoPaths.Root, loaded.Datasets, new TokenizeSettings(outDir, new FcTrainSettings().MaxSeqLength, TrainOn: "all"), []);
            File.AppendAllText(Path.Combine(outDir, "eval.safetensors"), " ");
            Assert.Equal("FCT0134", Assert.Throws<FcTrainException>(() => ShardReader.Read(outDir)).Diagnostic.Code);
        }
        finally { Directory.Delete(outDir, true); }
    }
}
