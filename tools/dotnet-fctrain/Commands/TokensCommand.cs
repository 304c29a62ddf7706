using System.CommandLine;
using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.Models;
using FcTrain.Tokenization;

namespace FcTrain.Cli.Commands;

/// <summary><c>fctrain tokens encode|decode</c>: the Gemma tokenizer on plain text, JSON in and out.</summary>
internal static class TokensCommand
{
    public static Command Create()
    {
        var command = new Command("tokens", "Encode text to Gemma token ids or decode ids to text (special tokens are never parsed from text).");
        command.Subcommands.Add(Encode());
        command.Subcommands.Add(Decode());
        return command;
    }

    private static Option<string?> TokenizerOption() => new("--tokenizer") { Description = "A model folder whose tokenizer.json to use (default: the model's, see --model)." };
    private static Option<string> ToolTokensOption() => new("--tool-tokens") { Description = "reserved (markup on <unusedN>) or added (ids 256000…).", DefaultValueFactory = _ => "reserved" };

    /// <summary>The tokenizer of <c>--tokenizer</c>, else the one of the model the settings name.</summary>
    private static GemmaTokenizer Load(ParseResult parse, SettingsOptions settings, string? folder, string toolTokens)
    {
        var mode = ToolTokens.ParseMode(toolTokens, "--tool-tokens");
        var model = settings.Read(parse).Value;
        return folder is null ? ModelSession.TokenizerFor(model, mode, Console.Error.WriteLine) : GemmaTokenizer.FromFolder(CommonOptions.FullPath(folder)!, mode);
    }

    private static Command Encode()
    {
        var text = new Argument<string?>("text") { Description = "The text (default: all of standard input).", Arity = ArgumentArity.ZeroOrOne };
        var input = new Option<string?>("--input") { Description = "A JSONL file of JSON strings: writes one JSON array of ids per line." };
        var bos = new Option<bool>("--bos") { Description = "Start with <bos> (id 2), as HF's encode does." };
        var tokenizer = TokenizerOption();
        var toolTokens = ToolTokensOption();
        var command = new Command("encode", "Text to a JSON array of ids.") { text, input, bos, tokenizer, toolTokens };
        var settings = new SettingsOptions(command, "model");
        command.SetAction(parse =>
        {
            var gemma = Load(parse, settings, parse.GetValue(tokenizer), parse.GetValue(toolTokens)!);
            bool withBos = parse.GetValue(bos);
            string Ids(string s) => JsonSerializer.Serialize(withBos ? [GemmaTokenizer.BosId, .. gemma.Encode(s)] : gemma.Encode(s));

            if (parse.GetValue(input) is { } file)
            {
                if (!File.Exists(file)) throw FcTrainException.Error("FCT0114", "the input file does not exist. Name a JSONL file with one JSON string per line.", file);
                using var output = new StreamWriter(Console.OpenStandardOutput()) { AutoFlush = false, NewLine = "\n" };
                int line = 0;
                foreach (string raw in File.ReadLines(file))
                {
                    line++;
                    string? s;
                    try { s = JsonSerializer.Deserialize<string>(raw); }
                    catch (JsonException e) { throw FcTrainException.Error("FCT0114", $"this line is not a JSON string ({e.Message.Split(" Path:")[0]}). Write one JSON string per line.", file, line, (int)(e.BytePositionInLine ?? 0) + 1); }
                    if (s is null) throw FcTrainException.Error("FCT0114", "this line is null, not a JSON string. Write one JSON string per line.", file, line, 1);
                    output.WriteLine(Ids(s));
                }
                return ExitCodes.Success;
            }
            Console.WriteLine(Ids(parse.GetValue(text) ?? Console.In.ReadToEnd()));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Decode()
    {
        var ids = new Argument<string?>("ids") { Description = "A JSON array of ids (default: standard input).", Arity = ArgumentArity.ZeroOrOne };
        var tokenizer = TokenizerOption();
        var toolTokens = ToolTokensOption();
        var command = new Command("decode", "A JSON array of ids to text (special tokens and markup kept as text).") { ids, tokenizer, toolTokens };
        var settings = new SettingsOptions(command, "model");
        command.SetAction(parse =>
        {
            string json = parse.GetValue(ids) ?? Console.In.ReadToEnd();
            int[] values;
            try { values = JsonSerializer.Deserialize<int[]>(json) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw FcTrainException.Error("FCT0114", $"the ids are not a JSON array of integers ({e.Message.Split(" Path:")[0]}). Pass e.g. [2, 651, 6037].", "ids"); }
            Console.Write(Load(parse, settings, parse.GetValue(tokenizer), parse.GetValue(toolTokens)!).Decode(values));
            return ExitCodes.Success;
        });
        return command;
    }
}
