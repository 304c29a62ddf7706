using System.CommandLine;
using System.Runtime.InteropServices;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models;
using FcTrain.Training;
using TorchSharp;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain train</c>: LoRA fine-tuning on the packed shards. Settings: defaults (the course's) &lt; fctrain.json &lt; these flags.
/// Ctrl-C / SIGTERM stop at the next step boundary with a checkpoint; <c>--resume</c> continues it.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = $"Settings file (default: ./{TrainingConfigFile.FileName} when present)." };
        var model = new Option<string?>("--model") { Description = "Base model: 'tiny', a Hugging Face model folder or a Hub id (e.g. google/gemma-2-2b-it)." };
        var shards = new Option<string?>("--shards") { Description = "Folder of the packed shards written by 'fctrain tokenize'." };
        var output = new Option<string?>("--out") { Description = "Output root (adapter/ and runs/<run-id>/ go below it; default artifacts/fctrain)." };
        var epochs = new Option<int?>("--epochs") { Description = "Passes over the train split." };
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop after this many optimizer steps." };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate." };
        var device = new Option<string?>("--device") { Description = "auto, cpu or cuda." };
        device.AcceptOnlyFromAmong("auto", "cpu", "cuda");
        var dtype = new Option<string?>("--dtype") { Description = "auto (bf16 on CUDA, float32 on CPU), float32 or bfloat16." };
        dtype.AcceptOnlyFromAmong("auto", "float32", "bfloat16");
        var seed = new Option<int?>("--seed") { Description = "Seed of initialisation, dropout and data order." };
        var checkpointing = new Option<bool?>("--gradient-checkpointing") { Description = "Recompute layers in backward to save memory (true/false)." };
        var saveSteps = new Option<int?>("--save-steps") { Description = "Checkpoint every N optimizer steps (0: only at the end)." };
        var resume = new Option<bool>("--resume") { Description = "Continue the latest run under the output root from its last checkpoint." };
        var resultFile = new Option<string?>("--result-file") { Description = "Write the adapter folder's path to this file (one line), for MSBuild." };
        var lockTimeout = LockOption.Create();

        var command = new Command("train", "Fine-tune the base model with LoRA on the tokenized shards and save a PEFT adapter.")
        {
            config, model, shards, output, epochs, maxSteps, lr, device, dtype, seed, checkpointing, saveSteps, resume, resultFile, lockTimeout,
        };
        command.SetAction(parse =>
        {
            var options = new TrainingOptions();
            string? configPath = parse.GetValue(config) ?? (File.Exists(TrainingConfigFile.FileName) ? TrainingConfigFile.FileName : null);
            if (configPath is not null)
            {
                if (!File.Exists(configPath))
                    throw FcTrainException.Error("FCT0301", "the settings file does not exist. Check the --config path.", configPath);
                var (loaded, errors) = TrainingConfigFile.Load(configPath, options);
                foreach (var error in errors) Console.Error.WriteLine(error);
                if (errors.Count > 0) return ExitCodes.Errors;
                options = loaded;
            }
            // Command-line flags (and the MSBuild properties mapped onto them) win over the file.
            options = options with
            {
                Model = parse.GetValue(model) ?? options.Model,
                Shards = parse.GetValue(shards) ?? options.Shards,
                Output = parse.GetValue(output) ?? options.Output,
                Epochs = parse.GetValue(epochs) ?? options.Epochs,
                MaxSteps = parse.GetValue(maxSteps) ?? options.MaxSteps,
                LearningRate = parse.GetValue(lr) ?? options.LearningRate,
                Device = parse.GetValue(device) ?? options.Device,
                Dtype = parse.GetValue(dtype) ?? options.Dtype,
                Seed = parse.GetValue(seed) ?? options.Seed,
                GradientCheckpointing = parse.GetValue(checkpointing) ?? options.GradientCheckpointing,
                SaveSteps = parse.GetValue(saveSteps) ?? options.SaveSteps,
                Resume = parse.GetValue(resume) || options.Resume,
            };

            // Shards are read, and checkpoints and the adapter written, by one process at a time (tokenize takes the same lock).
            // Taken before Ctrl-C is caught, so Ctrl-C ends a process that is still waiting.
            using var workspace = LockOption.Acquire(parse, lockTimeout, "fctrain train");
            using var stop = new CancellationTokenSource();
            // First Ctrl-C: finish the step, checkpoint, exit 130. A second one ends the process at once.
            ConsoleCancelEventHandler onCancel = (_, e) =>
            {
                e.Cancel = !stop.IsCancellationRequested;
                if (e.Cancel) Console.Error.WriteLine("fctrain: stopping after this step to write a checkpoint (Ctrl-C again to quit now)...");
                stop.Cancel();
            };
            Console.CancelKeyPress += onCancel;
            using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
            try
            {
                var device = Devices.Resolve(options.Device);
                var data = PackedData.Open(options.Shards, options.MaxSeqLength);
                torch.random.manual_seed(options.Seed); // the adapter's initialisation
                var model = Gemma2Trainable.Load(ModelResolver.Resolve(options.Model, Console.WriteLine), options.Lora, device, Devices.DType(options.Dtype, device));
                var result = new Trainer(options, model, data, Console.Out).Run(stop.Token);
                if (result.Interrupted) return ExitCodes.Interrupted;
                if (parse.GetValue(resultFile) is { } file) AtomicFile.WriteAllText(file, Path.GetFullPath(result.AdapterDirectory) + "\n");
                return ExitCodes.Success;
            }
            catch (ExternalException e) when (e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
                                              || e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase))
            {
                throw FcTrainException.Error("FCT0321",
                    $"out of memory while training ({e.Message.Split('\n')[0]}). Turn gradient checkpointing on, lower train.maxSeqLength " +
                    "(and re-tokenize), keep batchSize 1 with more gradientAccumulationSteps, or use bfloat16.");
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }
}
