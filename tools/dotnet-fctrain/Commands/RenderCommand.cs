using System.CommandLine;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Templates;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain render FILE [--template] [--serialization] [--mask] [--id]</c>: print conversations as the chat template renders them.</summary>
internal static class RenderCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("conversation-file") { Description = "A conversation file (*.json, or *.jsonl) inside a dataset." };
        var template = new Option<string?>("--template") { Description = "course or gemma (default: the dataset's template.name)." };
        var serialization = new Option<string?>("--serialization") { Description = "json or hermes (default: the dataset's template.serialization)." };
        var mask = new Option<bool>("--mask") { Description = "Mark the trained characters: ⟦trained⟧." };
        var trainOn = new Option<string?>("--train-on") { Description = "assistant or all, for --mask (default: the dataset's template.train_on)." };
        var id = new Option<string?>("--id") { Description = "Only the conversation with this id (for *.jsonl files)." };
        var command = new Command("render", "Print a conversation exactly as the chat template renders it (the text apply_chat_template returns).")
            { file, template, serialization, mask, trainOn, id };
        var settingsOptions = new SettingsOptions(command);
        command.SetAction(parse =>
        {
            string path = CommonOptions.FullPath(parse.GetValue(file))!;
            if (!File.Exists(path))
            {
                Console.Error.WriteLine($"fctrain render: '{parse.GetValue(file)}' does not exist. Name a conversation file of a dataset.");
                return ExitCodes.Usage;
            }
            string root = settingsOptions.Read(parse, path).Workspace.Root;
            LoadResult loaded = DatasetLoader.Load(root, [path]);
            foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
            if (loaded.HasErrors) return ExitCodes.Errors;

            var found = loaded.ConversationsIn(root, path, parse.GetValue(id));
            foreach (var (dataset, conversation) in found)
            {
                var t = dataset.Manifest.Template;
                var options = t with
                {
                    Name = parse.GetValue(template) ?? t.Name,
                    Serialization = parse.GetValue(serialization) ?? t.Serialization,
                    TrainOn = parse.GetValue(trainOn) ?? t.TrainOn,
                };
                var segments = ChatTemplate.Render(conversation, dataset.Functions, options);
                if (found.Count > 1) Console.WriteLine($"==> {conversation.Id} <==");
                Console.Write(parse.GetValue(mask) ? MaskView.Render(segments) : ChatTemplate.Text(segments));
                if (found.Count > 1) Console.WriteLine();
            }
            return ExitCodes.Success;
        });
        return command;
    }
}
