using FcTrain.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>Gemma-2 with LoRA attached, as the trainer drives it (see <see cref="ITrainableModel"/>).</summary>
public sealed class Gemma2Trainable(Gemma2ForCausalLM model, LoraConfig lora, ModelSource source) : ITrainableModel
{
    public Gemma2ForCausalLM Model => model;
    public ModelSource Source => source;

    /// <summary>
    /// Loads the base model from a Hugging Face folder in <paramref name="dtype"/> and attaches fresh adapters
    /// (initialised from torch's generator: seed it first).
    /// </summary>
    public static Gemma2Trainable Load(string folder, string name, LoraSettings settings, Device device, ScalarType dtype)
    {
        if (!File.Exists(Path.Combine(folder, "config.json")))
            throw FcTrainException.Error("FCT0323", $"'{folder}' is not a Hugging Face model folder (config.json is missing). Pass --model a folder with config.json and safetensors weights.", folder);
        var model = ModelLoader.Load(folder, dtype, device);
        var lora = settings.ToConfig();
        model.ApplyLora(lora);
        string? revision = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(folder).TrimEnd('/'))) == "snapshots"
            ? Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')) : null; // HF cache: …/snapshots/<revision>/
        return new Gemma2Trainable(model, lora, new ModelSource(name, Path.GetFullPath(folder), revision));
    }

    public Tensor HiddenStates(Batch batch, LayerRunner runLayer) =>
        model.Hidden(batch.InputIds, batch.PositionIds, batch.DocumentIds, cache: null,
            runLayer: (layer, block, input) => runLayer(layer, block, input));

    public Tensor Logits(Tensor hidden) => model.Logits(hidden);

    public IReadOnlyList<(string Name, Parameter Value)> TrainableParameters() => model.AdapterParameters();

    public void Train(bool on) => model.train(on);

    public void SaveAdapter(string directory) => PeftAdapter.Save(model, lora, directory, source.Name);
}
