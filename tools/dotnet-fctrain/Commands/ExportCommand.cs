using System.CommandLine;
using FcTrain.Data;
using FcTrain.Interop;
using FcTrain.Models;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain export --format openai|hf|tokenized --out DIR [DATASET…]</c>: the datasets for other tools, one JSONL file
/// per split (<c>train.jsonl</c>, <c>eval.jsonl</c>). <c>tokenized</c> uses the model's tokenizer (setting <c>model</c>),
/// as <c>fctrain tokenize</c> does, and writes beside the rows the tokenizer files and recipes for TRL and Axolotl (<see cref="TrainerRecipes"/>).
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var paths = CommonOptions.Datasets();
        var format = new Option<string>("--format") { Description = "openai (fine-tuning JSONL), hf (apply_chat_template input) or tokenized (input_ids, attention_mask, labels).", Required = true };
        format.AcceptOnlyFromAmong("openai", "hf", "tokenized");
        var output = new Option<string>("--out") { Description = "The folder to write train.jsonl and eval.jsonl into.", Required = true };
        var command = new Command("export", "Export datasets as OpenAI or transformers JSONL, or as fctrain's exact tokenization.") { paths, format, output };
        var settingsOptions = new SettingsOptions(command, "model");
        command.SetAction(parse =>
        {
            string[] datasets = CommonOptions.FullPaths(parse.GetValue(paths));
            var effective = settingsOptions.Read(parse, datasets.FirstOrDefault());
            LoadResult loaded = DatasetLoader.Load(effective.Workspace.Root, datasets);
            foreach (var d in loaded.Diagnostics) Console.WriteLine(d);
            if (loaded.HasErrors) return ExitCodes.Errors;

            string outDirectory = CommonOptions.FullPath(parse.GetValue(output))!;
            Tokenization.GemmaTokenizer? tokenizer = null;
            var files = Exporter.Run(loaded.Datasets, Exporter.ParseFormat(parse.GetValue(format))!.Value, outDirectory,
                mode => tokenizer = ModelSession.TokenizerFor(effective.Value, mode, Log));
            foreach (var file in files)
                Log($"wrote {Shown(file.Path)}: {file.Rows} {file.Split.ToString().ToLowerInvariant()} conversation(s)");
            if (tokenizer is not null)
                foreach (string written in TrainerRecipes.Write(outDirectory, effective.Value, tokenizer, effective.Value.MaxSeqLength))
                    Log($"wrote {Shown(written)}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Shown(string path) => Path.GetRelativePath(Environment.CurrentDirectory, path).Replace('\\', '/');

    private static void Log(string message) => Console.WriteLine($"fctrain export: {message}");
}
