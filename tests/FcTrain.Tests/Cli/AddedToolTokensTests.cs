using FcTrain.Settings;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Evaluation;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Packing;
using FcTrain.SafeTensors;
using FcTrain.Tests.Evaluation;
using static TorchSharp.torch;

namespace FcTrain.Tests.Cli;

/// <summary>
/// <c>template.tool_tokens: "added"</c> through the whole pipeline on a copy of the weather samples: tokenize (markup
/// ids 256000…), train the tiny model (resized to 256,008 rows), then evaluate, generate and merge with the adapter.
/// </summary>
public sealed class AddedToolTokensTests : IDisposable
{
    private readonly string _root = SampleData.CopyToTemp();

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private void Run(params string[] args)
    {
        var (exit, stdout, stderr) = CliRunner.Run(_root, args);
        Assert.True(exit == 0, $"fctrain {string.Join(' ', args)} exited {exit}\n{stdout}\n{stderr}");
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Tokenize_train_eval_generate_merge_with_added_markup_tokens()
    {
        string manifest = Path.Combine(_root, "datasets/weather/dataset.json");
        var dataset = JsonNode.Parse(File.ReadAllText(manifest))!;
        dataset["template"]!["tool_tokens"] = "added";
        File.WriteAllText(manifest, dataset.ToJsonString());

        // Tokenize: the markup gets ids 256000..256007.
        Run("tokenize", "datasets/weather", "--shards", "shards");
        var shards = ShardReader.Read(Path.Combine(_root, "shards"));
        var tokenizerEntry = JsonNode.Parse(shards.ManifestJson)!["tokenizer"]!;
        Assert.Equal("added", (string?)tokenizerEntry["tool_tokens"]);
        Assert.Equal(256008, (int)tokenizerEntry["vocab_size"]!);
        Assert.Equal(256004, (int)tokenizerEntry["markup_ids"]!["<tool_call>"]!);
        var ids = shards.Train.SelectMany(r => r.InputIds).ToHashSet();
        Assert.Contains(256000, ids);   // <tools> in the system preamble
        Assert.Contains(256004, ids);   // <tool_call> in the answers
        Assert.DoesNotContain(ids, i => i >= 256008);

        // Without the adapter the base model has no rows for the markup ids: a clear error, not an index failure.
        var noAdapter = new EvalOptions { Datasets = ["datasets/weather"], Split = Split.Eval, Settings = new FcTrainSettings { Device = "cpu", MaxNewTokens = 1 } };
        var error = Assert.Throws<FcTrain.Diagnostics.FcTrainException>(() => EvalSession.Run(_root, noAdapter, _ => { }));
        Assert.Equal("FCT0231", error.Diagnostic.Code);

        // Train two steps of one row each: the tiny model grows to 256,008 rows before LoRA, the adapter carries them
        // and the tokenizer.
        File.WriteAllText(Path.Combine(_root, "fctrain.json"), """{ "train": { "gradientAccumulationSteps": 1, "evalEachEpoch": false } }""");
        Run("train", "--model", "tiny", "--shards", "shards", "--output", "out", "--max-steps", "2", "--device", "cpu", "--save-steps", "0");
        string adapter = Path.Combine(_root, "out/adapter");
        Assert.True(File.Exists(Path.Combine(adapter, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(adapter, "tokenizer_config.json")));
        var weights = SafeTensorsFile.Open(Path.Combine(adapter, PeftAdapter.WeightsFile));
        Assert.Equal([256008L, 128L], weights.Tensors["base_model.model.model.embed_tokens.base_layer.weight"].Shape);
        using (var scope = NewDisposeScope())
        {
            // The new tokens' LoRA columns trained (A starts at zero): <tool_call> was in the batches.
            var loraA = weights.Read("base_model.model.model.embed_tokens.lora_embedding_A");   // (r, 256008)
            Assert.True(loraA[.., 256004].abs().sum().item<float>() > 0);
        }

        // Evaluate and generate with the adapter: the base model is resized to it, the adapter's tokenizer is used.
        var log = new List<string>();
        var (report, _, diagnostics) = EvalSession.Run(_root, new EvalOptions
        {
            Datasets = ["datasets/weather"], Split = Split.Eval, Adapter = adapter, Settings = new FcTrainSettings { Device = "cpu", MaxNewTokens = 4 },
        }, log.Add);
        Assert.Empty(diagnostics);
        Assert.Equal(EvalCase.From(DatasetLoader.Load(_root, ["datasets/weather"]).Datasets.Single(), Split.Eval).Count, report!.Results.Count);
        Assert.Contains(log, l => l.Contains($"tokenizer {Path.Combine(adapter, "tokenizer.json")}"));
        Run("generate", "--model", "tiny", "--adapter", "out/adapter", "--prompt", "Weather in Oslo?", "--max-new-tokens", "3", "--device", "cpu");

        // Merge: a 256,008-row model with the adapter's tokenizer, equal to base + adapter.
        Run("merge", "--model", "tiny", "--adapter", "out/adapter", "--out", "merged");
        string merged = Path.Combine(_root, "merged");
        Assert.Equal(256008, Gemma2Config.Load(Path.Combine(merged, "config.json")).VocabSize);
        Assert.Equal(File.ReadAllText(Path.Combine(adapter, "tokenizer.json")), File.ReadAllText(Path.Combine(merged, "tokenizer.json")));
        Assert.True(File.Exists(Path.Combine(merged, "tokenizer_config.json")));
        using (var scope = NewDisposeScope())
        {
            var input = tensor(new long[] { 2, 256000, 651, 256004, 256005, 107 }).unsqueeze(0);   // (1, T)
            var positions = arange(input.shape[1]).unsqueeze(0);
            using var withAdapter = ModelLoader.Load(TinyModel.EnsureMaterialized(), ScalarType.Float32, CPU);
            PeftAdapter.Load(withAdapter, adapter);
            withAdapter.eval();
            using var mergedModel = ModelLoader.Load(merged, ScalarType.Float32, CPU);
            var expected = withAdapter.forward(input, positions);                                 // (1, T, 256008)
            var actual = mergedModel.forward(input, positions);
            Assert.Equal(expected.shape, actual.shape);
            Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-4));
        }
    }
}
