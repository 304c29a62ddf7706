using System.CommandLine;
using FcTrain.Data;
using FcTrain.Generation;
using FcTrain.Models;
using FcTrain.Packing;
using FcTrain.Settings;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain generate [--adapter A] (--prompt TEXT | --conversation FILE)</c>: the model's next turn,
/// streamed to the console as it is decoded. The prompt is rendered with the training template and the
/// generation prompt, exactly as evaluation does.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var adapter = CommonOptions.Adapter();
        var prompt = new Option<string?>("--prompt") { Description = "A user message (rendered alone, with no tools offered)." };
        var conversation = new Option<string?>("--conversation") { Description = "A conversation file of a dataset: the model answers its last user/tool turn (a final assistant turn is left out)." };
        var id = new Option<string?>("--id") { Description = "Which conversation of a *.jsonl file." };
        var temperature = new Option<double>("--temperature") { Description = "0 (default) is greedy.", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { Description = "Seed of sampling (temperature > 0).", DefaultValueFactory = _ => 0 };
        var command = new Command("generate", "Generate the model's next turn for a prompt or a conversation, streamed as it is decoded.")
            { adapter, prompt, conversation, id, temperature, topP, seed };
        var settingsOptions = new SettingsOptions(command, [.. SettingsOptions.ModelKeys, "eval.maxNewTokens"]);
        command.SetAction(parse =>
        {
            if ((parse.GetValue(prompt) is null) == (parse.GetValue(conversation) is null))
            {
                Console.Error.WriteLine("fctrain generate: give exactly one of --prompt and --conversation.");
                return ExitCodes.Usage;
            }
            string? file = CommonOptions.FullPath(parse.GetValue(conversation));
            var effective = settingsOptions.Read(parse, file);
            Conversation convo;
            IReadOnlyList<FunctionDefinition> functions = [];
            var template = new TemplateOptions();
            if (file is not null)
            {
                string root = effective.Workspace.Root;
                LoadResult loaded = DatasetLoader.Load(root, [file]);
                foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
                if (loaded.HasErrors) return ExitCodes.Errors;
                var (dataset, found) = loaded.ConversationsIn(root, file, parse.GetValue(id))[0];
                int end = found.Messages.Count - (found.Messages[^1].Role == Role.Assistant ? 1 : 0);   // answer in the gold turn's place
                (convo, functions, template) = (found with { Messages = found.Messages.Take(end).ToList() }, dataset.Functions, dataset.Manifest.Template);
            }
            else convo = new Conversation("prompt", [], [new Message(Role.User, parse.GetValue(prompt))], new SourceSpan("--prompt"));

            using var session = ModelSession.Open(effective.Value, CommonOptions.FullPath(parse.GetValue(adapter)),
                ToolTokens.ParseMode(template.ToolTokens), Console.Error.WriteLine);
            session.RequireVocabulary();
            var tokenizer = session.Tokenizer;
            var segments = ChatTemplate.Render(convo, functions, template, addGenerationPrompt: true);
            int[] ids = TokenizedConversation.From(convo.Id, segments, tokenizer).InputIds;
            var generated = new List<int>();
            string shown = "";
            var options = new GenerationOptions(effective.Value.MaxNewTokens, parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(seed));
            TextGenerator.Generate(session.Model, ids, options, token =>
            {
                // Decode the whole turn each time: a character may span several byte-fallback tokens.
                generated.Add(token);
                string text = tokenizer.Decode(generated);
                if (text.StartsWith(shown, StringComparison.Ordinal)) Console.Write(text[shown.Length..]);
                shown = text;
            });
            Console.WriteLine();
            return ExitCodes.Success;
        });
        return command;
    }
}
