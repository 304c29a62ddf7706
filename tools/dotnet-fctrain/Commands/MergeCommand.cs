using System.CommandLine;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain merge --adapter A --out DIR</c>: a full Hugging Face model folder with the adapter folded in.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var adapter = CommonOptions.Adapter();
        adapter.Required = true;
        var output = new Option<string>("--out") { Description = "The folder to write (config.json, sharded safetensors + index, tokenizer).", Required = true };
        var command = new Command("merge", "Merge a LoRA adapter into its base model and write a Hugging Face model folder that transformers can load.")
            { adapter, output };
        var settingsOptions = new SettingsOptions(command, SettingsOptions.ModelKeys);
        command.SetAction(parse =>
        {
            var settings = settingsOptions.Read(parse).Value;
            // Merging runs on the CPU; dtype auto keeps the checkpoint's precision, so a bf16 model stays bf16.
            var dtype = settings.Dtype == "auto"
                ? Gemma2Config.Load(Path.Combine(ModelResolver.Resolve(settings.Model, Console.Error.WriteLine).Folder, "config.json")).TorchDtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32
                : Devices.DType(settings.Dtype, CPU);
            string adapterFolder = CommonOptions.FullPath(parse.GetValue(adapter))!;
            using var session = ModelSession.Open(settings, adapterFolder, ToolTokenMode.Reserved, Console.Error.WriteLine, CPU, dtype);
            string outDir = CommonOptions.FullPath(parse.GetValue(output))!;
            string tokenizerSource = File.Exists(Path.Combine(adapterFolder, "tokenizer.json")) ? adapterFolder : session.Resolved.Folder;
            MergedModel.Save(session.Model, outDir, tokenizerSource, path => GemmaTokenizer.Embedded().WriteHuggingFaceJson(path));
            Console.WriteLine($"fctrain merge: {session.Resolved.Name} + {adapterFolder} -> {outDir}");
            return ExitCodes.Success;
        });
        return command;
    }
}
