using System.CommandLine;
using FcTrain.Data;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.Serving;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain merge --adapter A --out DIR [DATASET…]</c>: a full Hugging Face model folder with the adapter folded in, and
/// the serving files (<see cref="ServingFiles"/>): the chat template follows the template options of the datasets the
/// adapter was trained on (default: those its fctrain-run.json records, else every dataset of the workspace, else the default options).
/// </summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var adapter = CommonOptions.Adapter();
        adapter.Required = true;
        var output = new Option<string>("--out") { Description = "The folder to write (config.json, sharded safetensors + index, tokenizer, serving files).", Required = true };
        var paths = CommonOptions.Datasets();
        paths.Description = "The datasets the adapter was trained on: their template options shape the chat template (default: those recorded in the adapter's fctrain-run.json, else every dataset under the workspace's datasets/).";
        var command = new Command("merge", "Merge a LoRA adapter into its base model and write a Hugging Face model folder that transformers, vLLM, llama.cpp and Ollama can serve.")
            { paths, adapter, output };
        var settingsOptions = new SettingsOptions(command, SettingsOptions.ModelKeys);
        command.SetAction(parse =>
        {
            string[] datasets = CommonOptions.FullPaths(parse.GetValue(paths));
            var effective = settingsOptions.Read(parse, datasets.FirstOrDefault());
            var settings = effective.Value;
            string adapterFolder = CommonOptions.FullPath(parse.GetValue(adapter))!;
            TemplateOptions template;
            string where = "fctrain";   // where the template options came from, for diagnostics
            if (datasets.Length == 0 && ServingTemplate.Recorded(adapterFolder) is { } recorded)
            {
                template = recorded;
                where = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(adapterFolder, "fctrain-run.json"));
                Console.Error.WriteLine($"fctrain merge: chat template options from the datasets the adapter was trained on (fctrain-run.json): {template.Name}, {template.Serialization}, {template.ToolTokens}.");
            }
            else if (datasets.Length == 0 && !Directory.Exists(Path.Combine(effective.Workspace.Root, FcTrain.Settings.Workspace.DatasetsFolder)))
            {
                template = new TemplateOptions();
                Console.Error.WriteLine("fctrain merge: no datasets named, none recorded with the adapter and none in the workspace: the chat template uses the default options (course, json, reserved).");
            }
            else
            {
                LoadResult loaded = DatasetLoader.Load(effective.Workspace.Root, datasets);
                foreach (var d in loaded.Diagnostics) Console.WriteLine(d);
                if (loaded.HasErrors) return ExitCodes.Errors;
                template = ServingTemplate.Options(loaded.Datasets);
                if (loaded.Datasets.Count > 0) where = loaded.Datasets[0].Manifest.Source.File;
            }
            ServingTemplate.Jinja(template, where);   // an option the serving template cannot express fails here, before the merge
            // Merging runs on the CPU; dtype auto keeps the checkpoint's precision, so a bf16 model stays bf16.
            var dtype = settings.Dtype == "auto"
                ? Gemma2Config.Load(Path.Combine(ModelResolver.Resolve(settings.Model, Console.Error.WriteLine).Folder, "config.json")).TorchDtype == "bfloat16" ? ScalarType.BFloat16 : ScalarType.Float32
                : Devices.DType(settings.Dtype, CPU);
            using var session = ModelSession.Open(settings, adapterFolder, ToolTokens.ParseMode(template.ToolTokens), Console.Error.WriteLine, CPU, dtype);
            string outDir = CommonOptions.FullPath(parse.GetValue(output))!;
            string tokenizerSource = File.Exists(Path.Combine(adapterFolder, "tokenizer.json")) ? adapterFolder : session.Resolved.Folder;
            MergedModel.Save(session.Model, outDir, tokenizerSource, path => session.Tokenizer.WriteHuggingFaceJson(path));
            foreach (string written in ServingFiles.Write(outDir, template, session.Tokenizer, session.Resolved.Folder, where))
                Console.Error.WriteLine($"fctrain merge: wrote {Path.GetFileName(written)}");
            Console.WriteLine($"fctrain merge: {session.Resolved.Name} + {adapterFolder} -> {outDir}");
            return ExitCodes.Success;
        });
        return command;
    }
}
