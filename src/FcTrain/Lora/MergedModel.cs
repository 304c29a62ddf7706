using System.Text.Json.Nodes;
using FcTrain.IO;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Lora;

/// <summary>
/// <c>fctrain merge</c>: base model + LoRA adapter folded into one full Hugging Face model folder (PEFT's
/// merge_and_unload, then save_pretrained): config.json, safetensors shards with their index, tokenizer files.
/// Gemma ties lm_head to embed_tokens; when the adapter changes either of them, the two differ after merging,
/// so the merged model is written untied (its own lm_head.weight, tie_word_embeddings false).
/// </summary>
public static class MergedModel
{
    public const long DefaultShardBytes = 2L << 30;

    private static readonly string[] TokenizerFiles =
        ["tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"];

    /// <returns>The merged weights by Hugging Face name, in the model's dtype.</returns>
    public static List<(string Name, Tensor Value)> Merge(Gemma2ForCausalLM model)
    {
        var merged = new List<(string, Tensor)>();
        var lm = model.LmHead;
        var embed = model.Model.EmbedTokens;
        bool untie = model.Config.TieWordEmbeddings && (lm.LoraA is not null || embed.LoraA is not null);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters().Where(p => !p.name.Contains(".lora_") && !p.name.StartsWith("lora_")))
        {
            string module = name[..^".weight".Length];
            var linear = model.LinearModules().FirstOrDefault(m => m.Path == module).Layer;
            Tensor value = name == "model.embed_tokens.weight" && embed.LoraA is not null
                ? AdapterMerge.Embedding(parameter, embed.LoraA, embed.LoraB!, embed.Scaling)
                : linear?.LoraA is not null
                    ? AdapterMerge.Linear(parameter, linear.LoraA.weight!, linear.LoraB!.weight!, linear.Scaling)
                    : parameter.detach().clone();
            merged.Add((name, value));
        }
        if (untie)
        {
            var head = lm.LoraA is not null
                ? AdapterMerge.Linear(lm.Weight, lm.LoraA.weight!, lm.LoraB!.weight!, lm.Scaling)
                : lm.Weight.detach().clone();
            merged.Add(("lm_head.weight", head));
        }
        return merged;
    }

    /// <summary>Writes the merged model as a Hugging Face folder; tokenizer files come from <paramref name="tokenizerSource"/>.</summary>
    public static void Save(Gemma2ForCausalLM model, string directory, string? tokenizerSource, Action<string>? writeEmbeddedTokenizer, long shardBytes = DefaultShardBytes)
    {
        var weights = Merge(model);
        try
        {
            Directory.CreateDirectory(directory);
            var config = model.Config with
            {
                TieWordEmbeddings = model.Config.TieWordEmbeddings && !weights.Any(w => w.Name == "lm_head.weight"),
                TorchDtype = model.DType == ScalarType.BFloat16 ? "bfloat16" : model.DType == ScalarType.Float16 ? "float16" : "float32",
            };
            config.Save(Path.Combine(directory, "config.json"));
            WriteShards(directory, weights, shardBytes);

            var copied = TokenizerFiles.Where(f => tokenizerSource is not null && File.Exists(Path.Combine(tokenizerSource, f))).ToList();
            foreach (string file in copied)
                AtomicFile.Write(Path.Combine(directory, file), s => { using var input = File.OpenRead(Path.Combine(tokenizerSource!, file)); input.CopyTo(s); });
            if (!copied.Contains("tokenizer.json")) writeEmbeddedTokenizer?.Invoke(Path.Combine(directory, "tokenizer.json"));
        }
        finally
        {
            foreach (var (_, value) in weights) value.Dispose();
        }
    }

    /// <summary>model-0000i-of-0000n.safetensors of at most <paramref name="shardBytes"/> each, and model.safetensors.index.json.</summary>
    private static void WriteShards(string directory, List<(string Name, Tensor Value)> weights, long shardBytes)
    {
        var shards = new List<List<(string Name, Tensor Value)>> { new() };
        long size = 0;
        foreach (var weight in weights.OrderBy(w => w.Name, StringComparer.Ordinal))
        {
            long bytes = weight.Value.NumberOfElements * weight.Value.ElementSize;
            if (size > 0 && size + bytes > shardBytes) { shards.Add([]); size = 0; }
            shards[^1].Add(weight);
            size += bytes;
        }
        var map = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:00000}-of-{shards.Count:00000}.safetensors";
            SafeTensorsWriter.Write(Path.Combine(directory, file), shards[i]);
            foreach (var (name, _) in shards[i]) map[name] = file;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = weights.Sum(w => w.Value.NumberOfElements * w.Value.ElementSize) },
            ["weight_map"] = map,
        };
        AtomicFile.WriteAllText(Path.Combine(directory, "model.safetensors.index.json"), index.ToJsonString(new() { WriteIndented = true }) + "\n");
    }
}
