using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
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
    /// Loads the resolved base model in <paramref name="dtype"/> and attaches fresh adapters
    /// (initialised from torch's generator: seed it first). When <paramref name="tokenizer"/> has more tokens than the
    /// model (tool markup added as tokens), the embeddings are resized first (new rows drawn from a generator seeded
    /// with <paramref name="seed"/>), and the adapter is saved with them and that tokenizer.
    /// </summary>
    public static Gemma2Trainable Load(ResolvedModel resolved, LoraSettings settings, Device device, ScalarType dtype,
        GemmaTokenizer? tokenizer = null, int seed = 0)
    {
        var model = ModelLoader.Load(resolved.Folder, dtype, device);
        if (tokenizer is not null && tokenizer.VocabSize > model.Config.VocabSize)
            model.ResizeTokenEmbeddings(tokenizer.VocabSize, new Generator((ulong)seed));
        var lora = settings.ToConfig();
        model.ApplyLora(lora);
        return new Gemma2Trainable(model, lora, new ModelSource(resolved.Name, Path.GetFullPath(resolved.Folder), resolved.Revision),
            model.ResizedFrom is null ? null : tokenizer);
    }

    public Tensor HiddenStates(Batch batch, LayerRunner runLayer) =>
        model.Hidden(batch.InputIds, batch.PositionIds, batch.DocumentIds, cache: null,
            runLayer: (layer, block, input) => runLayer(layer, block, input));

    public Tensor Logits(Tensor hidden) => model.Logits(hidden);

    public IReadOnlyList<(string Name, Parameter Value)> TrainableParameters() => model.AdapterParameters();

    public void Train(bool on) => model.train(on);

    public void SaveAdapter(string directory) => PeftAdapter.Save(model, lora, directory, source.Name, tokenizer);
}
