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
    /// Attaches fresh adapters (initialised from torch's generator: seed it first) to the model of <paramref name="session"/>,
    /// which the trainable model then owns.
    /// </summary>
    public static Gemma2Trainable Attach(ModelSession session, LoraSettings settings)
    {
        var lora = settings.ToConfig();
        session.Model.ApplyLora(lora);
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
