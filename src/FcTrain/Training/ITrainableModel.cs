using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>Runs one decoder layer: <c>block(input)</c> directly, or through <see cref="GradientCheckpoint"/>.</summary>
public delegate Tensor LayerRunner(nn.Module layer, Func<Tensor, Tensor> block, Tensor input);

/// <summary>Where the base model came from, for the run manifest and adapter_config.json.</summary>
public sealed record ModelSource(string Name, string Path, string? Revision);

/// <summary>
/// What the trainer needs from a causal LM with LoRA adapters attached. The trainer drives the two halves
/// itself so that (1) each decoder layer can be checkpointed and (2) logits are computed only at trained
/// positions: with Gemma's 256k vocabulary, full logits of a 1500-token row are 1.5 GB in float32.
/// </summary>
public interface ITrainableModel
{
    ModelSource Source { get; }

    /// <summary>Size of the output vocabulary (the last dimension of <see cref="Logits"/>).</summary>
    long VocabSize { get; }

    /// <summary>Hidden states after the final norm, (B, T, C), with block-diagonal causal attention over <c>DocumentIds</c>.
    /// Each decoder layer is called through <paramref name="runLayer"/>.</summary>
    Tensor HiddenStates(Batch batch, LayerRunner runLayer);

    /// <summary>Output logits for selected hidden states, (N, C) → (N, V): the LM head (with its adapter) and the final soft-cap.</summary>
    Tensor Logits(Tensor hidden);

    /// <summary>The head's loss as one fused CPU kernel (<see cref="HeadCrossEntropy"/>) where it applies, else null: the
    /// trainer then goes through <see cref="Logits"/> and libtorch's cross-entropy.</summary>
    HeadCrossEntropy? FusedHead => null;

    /// <summary>The adapter parameters (requires_grad), with stable names; nothing else trains.</summary>
    IReadOnlyList<(string Name, Parameter Value)> TrainableParameters();

    /// <summary>Dropout on (training) or off (evaluation).</summary>
    void Train(bool on);

    /// <summary>Writes the adapter as a PEFT folder (adapter_config.json + adapter_model.safetensors, tokenizer when needed).</summary>
    void SaveAdapter(string directory);
}
