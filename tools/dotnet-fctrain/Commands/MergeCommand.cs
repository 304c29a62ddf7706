using System.CommandLine;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain merge --model M --adapter A --out DIR</c>: a full Hugging Face model folder with the adapter folded in.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model: tiny, a model folder or a Hub id.", DefaultValueFactory = _ => "tiny" };
        var adapter = new Option<string>("--adapter") { Description = "The PEFT LoRA adapter folder.", Required = true };
        var output = new Option<string>("--out") { Description = "The folder to write (config.json, sharded safetensors + index, tokenizer).", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "float32, bfloat16, or auto (the base model's torch_dtype).", DefaultValueFactory = _ => "auto" };
        var command = new Command("merge", "Merge a LoRA adapter into its base model and write a Hugging Face model folder that transformers can load.")
            { model, adapter, output, dtype };
        command.SetAction(parse =>
        {
            var resolved = ModelResolver.Resolve(parse.GetValue(model)!, Console.Error.WriteLine);
            string requested = parse.GetValue(dtype)!;
            var type = requested == "auto"
                ? Models.Gemma2.Gemma2Config.Load(Path.Combine(resolved.Folder, "config.json")).TorchDtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32
                : Devices.DType(requested, CPU);
            using var lm = ModelLoader.Load(resolved.Folder, type, CPU);
            string adapterFolder = parse.GetValue(adapter)!;
            PeftAdapter.Load(lm, adapterFolder);
            string tokenizerSource = File.Exists(Path.Combine(adapterFolder, "tokenizer.json")) ? adapterFolder : resolved.Folder;
            string outDir = parse.GetValue(output)!;
            MergedModel.Save(lm, outDir, tokenizerSource, path => GemmaTokenizer.Embedded().WriteHuggingFaceJson(path));
            Console.WriteLine($"fctrain merge: {resolved.Name} + {adapterFolder} -> {Path.GetFullPath(outDir)}");
            return ExitCodes.Success;
        });
        return command;
    }
}
