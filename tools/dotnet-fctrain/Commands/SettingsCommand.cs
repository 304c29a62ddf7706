using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Settings;

namespace FcTrain.Cli.Commands;

/// <summary>
/// <c>fctrain settings [--json]</c>: every effective setting and where it came from (<c>default</c>, <c>fctrain.json</c>
/// or <c>flag</c>). Any setting can be given here as a flag or <c>--set</c>, to see what a command would run with.
/// </summary>
internal static class SettingsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print JSON: {\"train\": {\"epochs\": {\"value\": 3, \"source\": \"fctrain.json\"}}, …}." };
        var command = new Command("settings", "Show every effective setting, its value and its source.") { json };
        var settingsOptions = new SettingsOptions(command, [.. SettingsTable.All.Select(s => s.Key)]);
        command.SetAction(parse =>
        {
            var effective = settingsOptions.Read(parse);
            Console.Write(parse.GetValue(json) ? ToJson(effective).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n" : ToText(effective));
            return ExitCodes.Success;
        });
        return command;
    }

    internal static JsonObject ToJson(EffectiveSettings effective)
    {
        var root = new JsonObject();
        foreach (var setting in SettingsTable.All)
        {
            var parts = setting.Key.Split('.');
            var parent = root;
            foreach (string part in parts[..^1]) parent = (JsonObject)(parent[part] ??= new JsonObject());
            parent[parts[^1]] = new JsonObject
            {
                ["value"] = SettingsTable.ToJson(setting.Get(effective.Value)),
                ["source"] = EffectiveSettings.Name(effective.SourceOf(setting.Key)),
            };
        }
        return root;
    }

    private static string ToText(EffectiveSettings effective)
    {
        var rows = SettingsTable.All.Select(s => (s.Key, Value: SettingsTable.ToJson(s.Get(effective.Value))?.ToJsonString() ?? "null",
            Source: EffectiveSettings.Name(effective.SourceOf(s.Key)))).ToList();
        int key = rows.Max(r => r.Key.Length), value = Math.Min(40, rows.Max(r => r.Value.Length));
        var text = new System.Text.StringBuilder();
        text.AppendLine($"workspace {effective.Workspace.Root}");
        text.AppendLine($"settings  {effective.ConfigFile ?? "(no fctrain.json: defaults)"}");
        foreach (var r in rows) text.AppendLine($"{r.Key.PadRight(key)}  {r.Value.PadRight(value)}  {r.Source}");
        return text.ToString();
    }
}
