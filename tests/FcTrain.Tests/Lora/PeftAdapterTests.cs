using System.Text.Json.Nodes;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using FcTrain.Tests.Models.Gemma2;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Tests.Lora;

/// <summary>
/// PEFT adapters of a resized vocabulary, saved and loaded back, on the conformance checkpoint (vocab 384, tied head)
/// grown by 8 rows as tool_tokens "added" grows Gemma's 256,000 (the full-size case runs in AddedToolTokensTests).
/// </summary>
public sealed class PeftAdapterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fctrain-peft-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly string Base = ConformanceTests.Golden.Folder("tiny-f32");
    private const int Vocab = 384 + 8;

    /// <summary>The base model grown by 8 tokens, with a LoRA adapter whose factors are all non-zero.</summary>
    private static (Gemma2ForCausalLM Model, LoraConfig Config) Resized(IReadOnlyList<string> targets)
    {
        var model = ModelLoader.Load(Base, ScalarType.Float32, CPU);
        model.ResizeTokenEmbeddings(Vocab, new Generator(42));
        var config = new LoraConfig(4, 8, 0, targets);
        model.ApplyLora(config);
        using (no_grad())
        {
            manual_seed(7);
            foreach (var (_, value) in model.AdapterParameters()) value.copy_(randn_like(value) * 0.1);
        }
        model.eval();
        return (model, config);
    }

    private static Tensor Logits(Gemma2ForCausalLM model)
    {
        var ids = tensor(new long[] { 2, 384, 65, 388, 391, 107 }).unsqueeze(0);             // (1, T), new ids included
        return model.forward(ids, arange(ids.shape[1]).unsqueeze(0));                        // (1, T, V)
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Resized_adapter_holds_the_full_embeddings_and_tokenizer_and_loads_back_into_a_fresh_base_model()
    {
        using var scope = NewDisposeScope();
        var (model, config) = Resized(["q_proj", "v_proj", "embed_tokens", "lm_head"]);
        var expected = Logits(model);
        string folder = Path.Combine(_dir, "adapter");
        PeftAdapter.Save(model, config, folder, "conformance/tiny-f32", GemmaTokenizer.Embedded(ToolTokenMode.Added));
        model.Dispose();

        var file = SafeTensorsFile.Open(Path.Combine(folder, PeftAdapter.WeightsFile));
        // Targeted embeddings sit under PEFT's base_layer; the tied head is not written twice.
        Assert.Equal([392L, 48L], file.Tensors["base_model.model.model.embed_tokens.base_layer.weight"].Shape);
        Assert.Equal([4L, 392L], file.Tensors["base_model.model.model.embed_tokens.lora_embedding_A"].Shape);
        Assert.Equal([392L, 4L], file.Tensors["base_model.model.lm_head.lora_B.weight"].Shape);
        Assert.DoesNotContain(file.Tensors.Keys, k => k.StartsWith("base_model.model.lm_head.base_layer", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(folder, "tokenizer.json")));
        var tokenizerConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "tokenizer_config.json")))!;
        Assert.Equal("<tools>", (string?)tokenizerConfig["added_tokens_decoder"]!["256000"]!["content"]);
        Assert.Equal(ToolTokenMode.Added, GemmaTokenizer.ForModel(folder, Base, ToolTokenMode.Reserved).ToolTokens);

        using var loaded = ModelLoader.Load(Base, ScalarType.Float32, CPU);
        PeftAdapter.Load(loaded, folder);
        loaded.eval();
        Assert.Equal(Vocab, loaded.Config.VocabSize);
        Assert.True(Logits(loaded).Equals(expected));
    }

    [Fact]
    public void Embeddings_that_are_not_LoRA_targets_are_saved_under_their_own_name()
    {
        using var scope = NewDisposeScope();
        var (model, config) = Resized(["q_proj"]);
        var expected = Logits(model);
        string folder = Path.Combine(_dir, "adapter");
        PeftAdapter.Save(model, config, folder, "conformance/tiny-f32");
        model.Dispose();

        var keys = SafeTensorsFile.Open(Path.Combine(folder, PeftAdapter.WeightsFile)).Tensors.Keys;
        Assert.Contains("base_model.model.model.embed_tokens.weight", keys);
        Assert.DoesNotContain(keys, k => k.Contains("base_layer"));

        using var loaded = ModelLoader.Load(Base, ScalarType.Float32, CPU);
        PeftAdapter.Load(loaded, folder);
        loaded.eval();
        Assert.True(Logits(loaded).Equals(expected));
    }
}
