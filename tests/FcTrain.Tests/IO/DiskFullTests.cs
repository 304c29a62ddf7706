using FcTrain.Settings;
using System.Security.Cryptography;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Packing;
using FcTrain.Tests.Training;
using FcTrain.Training;
using static TorchSharp.torch;

namespace FcTrain.Tests.IO;

/// <summary>
/// A full disk in the middle of writing shards, an adapter or a checkpoint: the writes of the file named go to
/// <c>/dev/full</c>, whose every write fails with the kernel's ENOSPC. The previous files must stay as they
/// were, nothing half-written may stay behind, and the error is FCT0501.
/// </summary>
[Collection(TorchRngCollection.Name)]
public sealed class DiskFullTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("fctrain-diskfull-").FullName;

    public void Dispose()
    {
        AtomicFile.OpenTempOverride.Value = null;
        Directory.Delete(root, recursive: true);
    }

    /// <summary>From now on, writes of files whose path ends with <paramref name="suffix"/> hit a full disk.</summary>
    static void DiskFullFor(string suffix) =>
        AtomicFile.OpenTempOverride.Value = path => path.EndsWith(suffix, StringComparison.Ordinal)
            ? new FileStream("/dev/full", FileMode.Open, FileAccess.Write) : null;

    /// <summary>Every file under <paramref name="folder"/> (relative path → SHA-256), and every leftover name beside them.</summary>
    static SortedDictionary<string, string> Contents(string folder) => new(
        Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))),
        StringComparer.Ordinal);

    static void AssertNoLeftovers(string folder) =>
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories),
            f => f.Contains(".partial-") || f.Contains(".old-") || f.EndsWith(".tmp"));

    [Fact]
    public void Tokenize_on_a_full_disk_keeps_the_previous_shards_and_manifest()
    {
        var datasets = DatasetLoader.Load(RepoPaths.Root, ["datasets/weather"]).Datasets;
        string shards = Path.Combine(root, "shards");
        Assert.NotNull(ShardBuilder.Build(RepoPaths.Root, datasets, new TokenizeSettings(shards, MaxSeqLength: 1500), []));
        var before = Contents(shards);

        // Other rows this time, so every file would change; the second shard file does not fit on the disk.
        DiskFullFor("eval.safetensors");
        var e = Assert.Throws<FcTrainException>(() => ShardBuilder.Build(RepoPaths.Root, datasets, new TokenizeSettings(shards, MaxSeqLength: 2048), []));

        Assert.Equal("FCT0501", e.Diagnostic.Code);
        Assert.Equal(Path.Combine(shards, "eval.safetensors"), e.Diagnostic.File);   // the shard, not its staged copy
        Assert.Contains("no space left on the device", e.Diagnostic.ToString());
        Assert.Equal(before, Contents(shards));
        AssertNoLeftovers(root);
        Assert.Equal(["shards"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Training_on_a_full_disk_keeps_the_previous_adapter_and_checkpoints()
    {
        using var scope = NewDisposeScope();
        var data = TrainerTests.Data(4);
        var options = new FcTrainSettings { Output = root, Epochs = 2, GradientAccumulationSteps = 2, LoggingSteps = 10, SaveSteps = 3, Seed = 5, LearningRate = 0.1 };
        var first = new Trainer(options, new ToyLoraLm(), data, TextWriter.Null).Run(CancellationToken.None);
        var adapter = Contents(first.AdapterDirectory);
        var checkpoints = Contents(Path.Combine(first.RunDirectory, "checkpoints"));

        // A second run whose adapter weights do not fit: the first run's adapter stays the adapter.
        DiskFullFor("toy-adapter.bin");
        var e = Assert.Throws<FcTrainException>(() =>
            new Trainer(options with { Seed = 6, SaveSteps = 0 }, new ToyLoraLm(), data, TextWriter.Null).Run(CancellationToken.None));
        Assert.Equal("FCT0501", e.Diagnostic.Code);
        Assert.Equal(adapter, Contents(first.AdapterDirectory));

        // Rewriting the last checkpoint (a resumed run that ends where it stopped) with no room for its optimizer state.
        DiskFullFor("optimizer.bin");
        var model = new ToyLoraLm();
        var trainable = model.TrainableParameters().ToList();
        var last = TrainingCheckpoint.List(Path.Combine(first.RunDirectory, "checkpoints"))[^1];
        e = Assert.Throws<FcTrainException>(() => TrainingCheckpoint.Save(Path.Combine(first.RunDirectory, "checkpoints"),
            new TrainingState(int.Parse(Path.GetFileName(last)[5..]), 8, 0, 0, [], "x"), trainable,
            optim.AdamW(trainable.Select(t => t.Value)), model.SaveAdapter));
        Assert.Equal("FCT0501", e.Diagnostic.Code);
        Assert.Equal(Path.Combine(last, "optimizer.bin"), e.Diagnostic.File);
        Assert.Equal(checkpoints, Contents(Path.Combine(first.RunDirectory, "checkpoints")));
        AssertNoLeftovers(root);
    }
}
