using System.CommandLine;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Generation;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Packing;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain generate --model M [--adapter A] (--prompt TEXT | --conversation FILE)</c>: the model's next turn,
/// streamed to the console as it is decoded. The prompt is rendered with the training template and the
/// generation prompt, exactly as evaluation does.
/// </summary>
internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model: tiny, a model folder or a Hub id.", DefaultValueFactory = _ => "tiny" };
        var adapter = new Option<string?>("--adapter") { Description = "A PEFT LoRA adapter folder to apply." };
        var prompt = new Option<string?>("--prompt") { Description = "A user message (rendered alone, with no tools offered)." };
        var conversation = new Option<string?>("--conversation") { Description = "A conversation file of a dataset: the model answers its last user/tool turn (a final assistant turn is left out)." };
        var id = new Option<string?>("--id") { Description = "Which conversation of a *.jsonl file." };
        var maxNewTokens = new Option<int>("--max-new-tokens") { DefaultValueFactory = _ => 256 };
        var temperature = new Option<double>("--temperature") { Description = "0 (default) is greedy.", DefaultValueFactory = _ => 0 };
        var topP = new Option<double>("--top-p") { DefaultValueFactory = _ => 1.0 };
        var seed = new Option<long>("--seed") { DefaultValueFactory = _ => 0 };
        var device = new Option<string>("--device") { Description = "auto, cpu or cuda.", DefaultValueFactory = _ => "auto" };
        var command = new Command("generate", "Generate the model's next turn for a prompt or a conversation, streamed as it is decoded.")
            { model, adapter, prompt, conversation, id, maxNewTokens, temperature, topP, seed, device };
        command.SetAction(parse =>
        {
            if ((parse.GetValue(prompt) is null) == (parse.GetValue(conversation) is null))
            {
                Console.Error.WriteLine("fctrain generate: give exactly one of --prompt and --conversation.");
                return ExitCodes.Usage;
            }
            var (convo, functions, template) = parse.GetValue(conversation) is { } file
                ? FromDataset(file, parse.GetValue(id))
                : (new Conversation("prompt", [], [new Message(Role.User, parse.GetValue(prompt))], new SourceSpan("--prompt")), [], new TemplateOptions());

            var dev = Devices.Resolve(parse.GetValue(device)!);
            var resolved = ModelResolver.Resolve(parse.GetValue(model)!, Console.Error.WriteLine);
            using var lm = ModelLoader.Load(resolved.Folder, Devices.DType("auto", dev), dev);
            string? adapterFolder = parse.GetValue(adapter);
            if (adapterFolder is not null) PeftAdapter.Load(lm, adapterFolder);
            var tokenizer = GemmaTokenizer.ForModel(adapterFolder, resolved.Folder, ToolTokens.ParseMode(template.ToolTokens));
            lm.RequireVocabulary(tokenizer.VocabSize, tokenizer.Source);

            var segments = ChatTemplate.Render(convo, functions, template, addGenerationPrompt: true);
            int[] ids = TokenizedConversation.From(convo.Id, segments, tokenizer).InputIds;
            var generated = new List<int>();
            string shown = "";
            TextGenerator.Generate(lm, ids, new GenerationOptions(parse.GetValue(maxNewTokens), parse.GetValue(temperature), parse.GetValue(topP), parse.GetValue(seed)), token =>
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

    private static (Conversation, IReadOnlyList<FunctionDefinition>, TemplateOptions) FromDataset(string file, string? id)
    {
        string root = Directory.GetCurrentDirectory();
        string path = Path.GetFullPath(file, root);
        LoadResult loaded = DatasetLoader.Load(root, [path]);
        foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
        if (loaded.HasErrors) throw FcTrainException.Error("FCT0218", "the conversation's dataset has errors (listed above); fix them first.", file);
        string relative = Path.GetRelativePath(root, path).Replace('\\', '/');
        var (dataset, conversation) = loaded.Datasets
            .SelectMany(d => d.Conversations.Select(c => (Dataset: d, c.Conversation)))
            .FirstOrDefault(x => x.Conversation.Source.File == relative && (id is null || x.Conversation.Id == id));
        if (conversation is null)
            throw FcTrainException.Error("FCT0218", "no conversation here" + (id is null ? "" : $" with id '{id}'") + ". Name a conversation file of a dataset.", file);
        int end = conversation.Messages.Count;
        if (conversation.Messages[^1].Role == Role.Assistant) end--;   // answer in the gold turn's place
        return (conversation with { Messages = conversation.Messages.Take(end).ToList() }, dataset.Functions, dataset.Manifest.Template);
    }
}
