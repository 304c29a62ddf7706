using System.CommandLine;
using System.Runtime.InteropServices;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Models;
using FcTrain.Settings;
using FcTrain.Training;
using TorchSharp;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain train</c>: LoRA fine-tuning on the packed shards. Every setting has a flag here (defaults &lt; fctrain.json &lt; flags).
/// Ctrl-C / SIGTERM stop at the next step boundary with a checkpoint; <c>--resume</c> continues it.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var resume = new Option<bool>("--resume") { Description = "Continue the latest run under the output root from its last checkpoint." };
        var lockTimeout = LockOption.Create();
        var command = new Command("train", "Fine-tune the base model with LoRA on the tokenized shards and save a PEFT adapter.") { resume, lockTimeout };
        var settingsOptions = new SettingsOptions(command, [.. SettingsTable.All.Where(s => !s.Key.StartsWith("eval.", StringComparison.Ordinal)).Select(s => s.Key)]);
        command.SetAction(parse =>
        {
            // --init-adapter: its adapter_config.json gives the LoRA shape
            var effective = settingsOptions.Read(parse);
            var options = effective.Value.WithInitAdapterShape() with { Resume = parse.GetValue(resume) };

            // Shards are read, and checkpoints and the adapter written, by one process at a time (tokenize takes the same lock).
            // Taken before Ctrl-C is caught, so Ctrl-C ends a process that is still waiting.
            using var workspace = LockOption.Acquire(parse, lockTimeout, "fctrain train", effective.Workspace.Root);
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
                var data = PackedData.Open(options.Shards, options.MaxSeqLength);
                using var session = ModelSession.Open(options, adapter: null, data.ToolTokens, Console.WriteLine);
                session.CheckTokenizer(data.ManifestJson, data.ManifestPath);
                torch.random.manual_seed(options.Seed); // the adapter's initialisation
                var model = Gemma2Trainable.Attach(session, options.Lora, options.InitAdapter, options.Seed);
                var result = new Trainer(options, model, data, Console.Out).Run(stop.Token);
                if (result.Interrupted) return ExitCodes.Interrupted;
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
