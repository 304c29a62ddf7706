using System.CommandLine;
using FcTrain.Settings;

namespace FcTrain.Cli;

/// <summary>
/// The options that map onto settings, defined once: <c>--config</c>, <c>--set KEY=VALUE</c> and one flag per setting
/// a command uses (<see cref="SettingsTable"/> names it: <c>--model</c>, <c>--epochs</c>, <c>--max-new-tokens</c>…).
/// Every command reads its settings through <see cref="Read"/>, so a flag means the same everywhere.
/// </summary>
internal sealed class SettingsOptions
{
    /// <summary>The flags of the commands that run a model.</summary>
    public static readonly string[] ModelKeys = ["model", "device", "dtype"];

    private readonly Option<string?> _config = new("--config") { Description = $"Settings file (default: the workspace's {SettingsReader.FileName})." };
    private readonly Option<string[]> _set = new("--set") { Description = "Override any setting: KEY=VALUE with a fctrain.json key, e.g. train.epochs=3 (repeatable)." };
    private readonly List<(Option<string?> Option, Setting Setting)> _flags = [];

    /// <summary>Adds <c>--config</c>, <c>--set</c> and the flags of <paramref name="keys"/> to <paramref name="command"/>.</summary>
    public SettingsOptions(Command command, params string[] keys)
    {
        var defaults = new FcTrainSettings();
        command.Options.Add(_config);
        command.Options.Add(_set);
        foreach (string key in keys)
        {
            var setting = SettingsTable.Find(key) ?? throw new ArgumentException($"no setting '{key}'", nameof(keys));
            var option = new Option<string?>(setting.Flag)
            {
                Description = $"Setting {setting.Key} (default: {Show(setting.Get(defaults))}).",
                Arity = setting.Kind == SettingKind.Bool ? ArgumentArity.ZeroOrOne : ArgumentArity.ExactlyOne,
            };
            command.Options.Add(option);
            _flags.Add((option, setting));
        }
    }

    /// <summary>
    /// The effective settings: defaults &lt; fctrain.json &lt; <c>--set</c> &lt; flags. The workspace is found upward from
    /// <paramref name="start"/> (a path argument), else from the current directory.
    /// </summary>
    public EffectiveSettings Read(ParseResult parse, string? start = null)
    {
        string current = Environment.CurrentDirectory;
        var workspace = Workspace.Find(start is null ? current : Path.GetFullPath(start, current));
        var overrides = new List<SettingOverride>();
        foreach (string assignment in parse.GetValue(_set) ?? [])
        {
            int equals = assignment.IndexOf('=');
            if (equals <= 0)
                throw Diagnostics.FcTrainException.Usage(SettingsReader.InvalidFlag, $"--set '{assignment}': write KEY=VALUE, e.g. --set train.epochs=3.");
            overrides.Add(new(assignment[..equals].Trim(), assignment[(equals + 1)..], $"--set {assignment[..equals].Trim()}"));
        }
        foreach (var (option, setting) in _flags)
            if (parse.GetResult(option) is not null)
                overrides.Add(new(setting.Key, parse.GetValue(option) ?? "", setting.Flag));
        return SettingsReader.Read(workspace, parse.GetValue(_config), overrides, current);
    }

    private static string Show(object? value) => value switch
    {
        null => "none",
        IEnumerable<string> list when value is not string => string.Join(",", list),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString()!,
    };
}

/// <summary>Options that are not settings but mean the same in every command that has them.</summary>
internal static class CommonOptions
{
    public static Option<string?> Adapter() => new("--adapter") { Description = "A PEFT LoRA adapter folder to apply on the base model." };

    public static Argument<string[]> Datasets() =>
        new("datasets") { Description = "Dataset folders or files (default: every dataset under the workspace's datasets/).", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Path arguments as full paths against the current directory (the workspace may be above it).</summary>
    public static string[] FullPaths(IEnumerable<string>? paths) => [.. (paths ?? []).Select(p => FullPath(p)!)];

    public static string? FullPath(string? path) => path is null ? null : Path.GetFullPath(path, Environment.CurrentDirectory);
}
