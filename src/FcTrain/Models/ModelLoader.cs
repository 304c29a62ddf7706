using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// Loads a Hugging Face model folder: <c>config.json</c> plus <c>model.safetensors</c>, or shards listed in
/// <c>model.safetensors.index.json</c>. Weights go one tensor at a time from the file into the model's own
/// (uninitialised) parameters, converted to the requested dtype on the way, so a model is never held twice.
/// </summary>
public static class ModelLoader
{
    public static Gemma2ForCausalLM Load(string folder, ScalarType dtype, Device device)
    {
        var config = Gemma2Config.Load(Path.Combine(folder, "config.json"));
        var files = WeightFiles(folder);
        var location = new Dictionary<string, SafeTensorsFile>(StringComparer.Ordinal);
        foreach (var file in files)
            foreach (var name in file.Tensors.Keys) location[name] = file;
        // The config sizes every tensor: check the largest against the file before allocating the model.
        const string embeddings = "model.embed_tokens.weight";
        if (location.TryGetValue(embeddings, out var embedFile)
            && !embedFile.Tensors[embeddings].Shape.SequenceEqual([config.VocabSize, config.HiddenSize]))
            throw FcTrainException.Error("FCT0209", $"tensor '{embeddings}' has shape [{string.Join(", ", embedFile.Tensors[embeddings].Shape)}] but config.json implies [{config.VocabSize}, {config.HiddenSize}] (vocab_size, hidden_size). The checkpoint does not match its config.json.", embedFile.Path);
        var model = new Gemma2ForCausalLM(config, dtype, device);

        using var _ = no_grad();
        var expected = model.named_parameters().ToList();
        var missing = expected.Where(p => !location.ContainsKey(p.name)).Select(p => p.name).ToList();
        if (missing.Count > 0)
            throw FcTrainException.Error("FCT0208", $"the weights lack {missing.Count} tensor(s) the config implies, e.g. '{missing[0]}'. The checkpoint does not match its config.json.", folder);
        foreach (var (name, parameter) in expected)
        {
            var file = location[name];
            var info = file.Tensors[name];
            if (!info.Shape.SequenceEqual(parameter.shape))
                throw FcTrainException.Error("FCT0209", $"tensor '{name}' has shape [{string.Join(", ", info.Shape)}] but the config implies [{string.Join(", ", parameter.shape)}]. The checkpoint does not match its config.json.", file.Path);
            if (info.DType is not ("F32" or "BF16" or "F16"))
                throw FcTrainException.Error("FCT0209", $"tensor '{name}' has dtype {info.DType}; model weights must be F32, BF16 or F16.", file.Path);
            using var source = file.Read(name);
            parameter.copy_(source);
        }
        var known = expected.Select(p => p.name).ToHashSet();
        // A tied checkpoint may still carry lm_head.weight (a copy of the embeddings); anything else is a mismatch.
        var unexpected = location.Keys.Where(k => !known.Contains(k) && !(k == "lm_head.weight" && config.TieWordEmbeddings)).Order().ToList();
        if (unexpected.Count > 0)
            throw FcTrainException.Error("FCT0208", $"the weights hold {unexpected.Count} tensor(s) a Gemma-2 model of this config has no place for, e.g. '{unexpected[0]}'.", folder);
        return model;
    }

    private static List<SafeTensorsFile> WeightFiles(string folder)
    {
        string index = Path.Combine(folder, "model.safetensors.index.json");
        if (File.Exists(index)) return ShardIndex.Files(folder, index).Select(SafeTensorsFile.Open).ToList();
        string single = Path.Combine(folder, "model.safetensors");
        if (!File.Exists(single))
            throw FcTrainException.Error("FCT0201", "no model.safetensors or model.safetensors.index.json in the model folder. fctrain loads Hugging Face safetensors checkpoints.", folder);
        return [SafeTensorsFile.Open(single)];
    }
}
