using System.Text.Json;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Tests.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Lora;

public sealed class MergedModelTests : IDisposable
{
    private readonly string _out = Directory.CreateTempSubdirectory("fctrain-merge-").FullName;

    public void Dispose() => Directory.Delete(_out, recursive: true);

    [Fact]
    public void Merged_folder_loads_untied_and_gives_the_golden_adapter_logits()
    {
        using var scope = NewDisposeScope();
        string folder = ConformanceTests.Golden.Folder("tiny-f32");
        var golden = ConformanceTests.Golden.Load("tiny-f32").Child("with_adapter");
        using (var lm = ModelLoader.Load(folder, ScalarType.Float32, CPU))
        {
            PeftAdapter.Load(lm, Path.Combine(folder, "adapter"));
            MergedModel.Save(lm, _out, tokenizerSource: null, writeEmbeddedTokenizer: null, shardBytes: 100_000);   // small shards: several files
        }

        Assert.True(Directory.GetFiles(_out, "model-*-of-*.safetensors").Length > 1);
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(_out, "model.safetensors.index.json")));
        var weightMap = index.RootElement.GetProperty("weight_map").EnumerateObject().ToList();
        Assert.All(weightMap, w => Assert.True(File.Exists(Path.Combine(_out, w.Value.GetString()!)), w.Name));
        Assert.Contains(weightMap, w => w.Name == "lm_head.weight");
        var config = Gemma2Config.Load(Path.Combine(_out, "config.json"));
        Assert.False(config.TieWordEmbeddings);   // the adapter changed lm_head and embed_tokens differently

        using var merged = ModelLoader.Load(_out, ScalarType.Float32, CPU);
        var ids = golden.Tensor("input_ids", ScalarType.Int64);
        var logits = merged.forward(ids, arange(ids.shape[1]).expand(ids.shape[0], -1));
        ConformanceTests.Golden.AssertClose(golden.Tensor("logits", ScalarType.Float32), logits, 1e-4);
    }
}
