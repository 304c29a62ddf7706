using System.Text.Json;
using System.Text.Json.Serialization;
using FcTrain.Diagnostics;
using FcTrain.IO;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace FcTrain.Training;

/// <summary>Where a run stands: enough, with the tensors beside it, to continue bit for bit.</summary>
public sealed record TrainingState(
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("total_steps")] int TotalSteps,
    [property: JsonPropertyName("tokens_seen")] long TokensSeen,
    [property: JsonPropertyName("elapsed_seconds")] double ElapsedSeconds,
    [property: JsonPropertyName("rng_state")] byte[] RngState,
    [property: JsonPropertyName("settings_hash")] string SettingsHash);

/// <summary>
/// A resumable checkpoint folder <c>runs/&lt;id&gt;/checkpoints/step-NNNNNN/</c>:
/// <c>trainable.bin</c> (the LoRA parameters, exact), <c>optimizer.bin</c> (AdamW moments and step counts),
/// <c>state.json</c> (step = data position and scheduler position, torch RNG, timing) and <c>adapter/</c> (a PEFT
/// adapter, usable on its own). The folder is assembled under a temporary name and renamed into place
/// (<see cref="AtomicDirectory"/>), so a folder named <c>step-…</c> is always complete.
/// </summary>
public static class TrainingCheckpoint
{
    const string Prefix = "step-";
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static string Save(string checkpointsDirectory, TrainingState state,
        IReadOnlyList<(string Name, Parameter Value)> trainable, TorchSharp.Modules.AdamW optimizer, Action<string> writeAdapter, int keep = 2)
    {
        string final = Path.Combine(checkpointsDirectory, $"{Prefix}{state.Step:D6}");
        AtomicDirectory.Replace(final, partial =>
        {
            AtomicFile.Write(Path.Combine(partial, "trainable.bin"), stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                writer.Write(trainable.Count);
                foreach (var (name, value) in trainable)
                {
                    writer.Write(name);
                    value.detach().cpu().Save(writer);
                }
            });
            AtomicFile.Write(Path.Combine(partial, "optimizer.bin"), stream =>
            {
                using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
                optimizer.save_state_dict(writer);
            });
            AtomicFile.WriteAllText(Path.Combine(partial, "state.json"), JsonSerializer.Serialize(state, Json));
            writeAdapter(Path.Combine(partial, "adapter"));
        });
        foreach (string old in List(checkpointsDirectory).SkipLast(keep)) Directory.Delete(old, recursive: true);
        return final;
    }

    /// <summary>Complete checkpoint folders, oldest first.</summary>
    public static IReadOnlyList<string> List(string checkpointsDirectory) =>
        !Directory.Exists(checkpointsDirectory) ? [] :
        Directory.GetDirectories(checkpointsDirectory, $"{Prefix}*")
            .Where(d => !Path.GetFileName(d).Contains('.') && File.Exists(Path.Combine(d, "state.json")))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Loads the parameters and optimizer state in place and returns the saved position.</summary>
    public static TrainingState Load(string checkpoint, IReadOnlyList<(string Name, Parameter Value)> trainable, TorchSharp.Modules.AdamW optimizer)
    {
        var state = JsonSerializer.Deserialize<TrainingState>(File.ReadAllText(Path.Combine(checkpoint, "state.json")))
            ?? throw FcTrainException.Error("FCT0310", "the checkpoint's state.json is empty. Delete this checkpoint folder to resume from the previous one.", checkpoint);
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(checkpoint, "trainable.bin"))))
        {
            int count = reader.ReadInt32();
            var byName = trainable.ToDictionary(t => t.Name, t => t.Value);
            if (count != byName.Count)
                throw FcTrainException.Error("FCT0310", $"the checkpoint holds {count} trainable tensors but the model has {byName.Count}: it was made with other LoRA settings. Resume with the settings of that run, or start a new run without --resume.", checkpoint);
            using var noGrad = no_grad();
            for (int i = 0; i < count; i++)
            {
                string name = reader.ReadString();
                if (!byName.TryGetValue(name, out var target))
                    throw FcTrainException.Error("FCT0310", $"the checkpoint has a tensor '{name}' the model does not: it was made with other LoRA settings. Resume with the settings of that run, or start a new run without --resume.", checkpoint);
                using var loaded = Tensor.Load(reader);
                target.copy_(loaded);
            }
        }
        using (var reader = new BinaryReader(File.OpenRead(Path.Combine(checkpoint, "optimizer.bin"))))
            optimizer.load_state_dict(reader);
        return state;
    }
}
