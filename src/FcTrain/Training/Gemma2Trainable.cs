using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Settings;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>Gemma-2 with LoRA attached, as the trainer drives it (see <see cref="ITrainableModel"/>).</summary>
public sealed class Gemma2Trainable(Gemma2ForCausalLM model, LoraConfig lora, ModelSource source) : ITrainableModel
{
    public Gemma2ForCausalLM Model => model;
    public ModelSource Source => source;

    public long VocabSize => model.Config.VocabSize;

    /// <summary>
    /// Attaches adapters to the model of <paramref name="session"/>, which the trainable model then owns: fresh ones
    /// (initialised from torch's generator: seed it first), or, with <paramref name="initAdapter"/>, those of that PEFT
    /// folder: its adapter_config.json gives the shape (see <see cref="FcTrainSettings.InitAdapter"/>), its weights the values.
    /// </summary>
    public static Gemma2Trainable Attach(ModelSession session, LoraSettings settings, string? initAdapter = null)
    {
        var lora = initAdapter is null ? settings.ToConfig() : settings.WithShapeOf(PeftAdapter.ReadConfig(initAdapter).Config).ToConfig();
        session.Model.ApplyLora(lora);
        if (initAdapter is not null) PeftAdapter.LoadWeights(session.Model, initAdapter, lora);
        var resolved = session.Resolved;
        return new Gemma2Trainable(session.Model, lora, new ModelSource(resolved.Name, Path.GetFullPath(resolved.Folder), resolved.Revision));
    }

    public Tensor HiddenStates(Batch batch, LayerRunner runLayer) =>
        model.Hidden(batch.InputIds, batch.PositionIds, batch.DocumentIds, cache: null,
            runLayer: (layer, block, input) => runLayer(layer, block, input));

    public Tensor Logits(Tensor hidden) => model.Logits(hidden);

    public IReadOnlyList<(string Name, Parameter Value)> TrainableParameters() => model.AdapterParameters();

    public void Train(bool on) => model.train(on);

    public void SaveAdapter(string directory) => PeftAdapter.Save(model, lora, directory, source.Name);
}
