using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Settings;
using FcTrain.Tokenization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>Gemma-2 with LoRA attached, as the trainer drives it (see <see cref="ITrainableModel"/>).</summary>
public sealed class Gemma2Trainable(Gemma2ForCausalLM model, LoraConfig lora, ModelSource source, GemmaTokenizer? tokenizer = null) : ITrainableModel
{
    public Gemma2ForCausalLM Model => model;
    public ModelSource Source => source;

    public long VocabSize => model.Config.VocabSize;

    /// <summary>
    /// Attaches adapters to the model of <paramref name="session"/>, which the trainable model then owns: fresh ones
    /// (initialised from torch's generator: seed it first), or, with <paramref name="initAdapter"/>, those of that PEFT
    /// folder: its adapter_config.json gives the shape (see <see cref="FcTrainSettings.InitAdapter"/>), its weights the values.
    /// When the session's tokenizer has more tokens than the model (tool markup added as tokens), the embeddings are
    /// resized first (new rows drawn from a generator seeded with <paramref name="seed"/>), and the adapter is saved
    /// with them and that tokenizer.
    /// </summary>
    public static Gemma2Trainable Attach(ModelSession session, LoraSettings settings, string? initAdapter = null, int seed = 0)
    {
        var model = session.Model;
        if (session.Tokenizer.ToolTokens == ToolTokenMode.Added && session.Tokenizer.VocabSize > model.Config.VocabSize)
            model.ResizeTokenEmbeddings(session.Tokenizer.VocabSize, new Generator((ulong)seed));
        var lora = initAdapter is null ? settings.ToConfig() : settings.WithShapeOf(PeftAdapter.ReadConfig(initAdapter).Config).ToConfig();
        model.ApplyLora(lora);
        if (initAdapter is not null) PeftAdapter.LoadWeights(model, initAdapter, lora);
        var resolved = session.Resolved;
        return new Gemma2Trainable(model, lora, new ModelSource(resolved.Name, Path.GetFullPath(resolved.Folder), resolved.Revision),
            model.ResizedFrom is null ? null : session.Tokenizer);
    }

    public Tensor HiddenStates(Batch batch, LayerRunner runLayer) =>
        model.Hidden(batch.InputIds, batch.PositionIds, batch.DocumentIds, cache: null,
            runLayer: (layer, block, input) => runLayer(layer, block, input));

    public Tensor Logits(Tensor hidden) => model.Logits(hidden);

    /// <summary>Packed on first use: the head's panels are a copy of [W | B] (147 MB for tiny with r=16) that only training's scoring reads.</summary>
    public HeadCrossEntropy? FusedHead => fusedHead ??= HeadCrossEntropy.For(model);
    private HeadCrossEntropy? fusedHead;

    public IReadOnlyList<(string Name, Parameter Value)> TrainableParameters() => model.AdapterParameters();

    public void Train(bool on) => model.train(on);

    public void SaveAdapter(string directory) => PeftAdapter.Save(model, lora, directory, source.Name, tokenizer);
}
