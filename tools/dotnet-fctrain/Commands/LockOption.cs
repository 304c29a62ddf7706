using System.CommandLine;
using FcTrain.IO;

namespace FcTrain.Cli.Commands;

/// <summary><c>--lock-timeout</c> and the workspace lock of the commands that write shards, checkpoints or adapters.</summary>
internal static class LockOption
{
    public static Option<double?> Create() => new("--lock-timeout")
    {
        Description = "Seconds to wait while another fctrain process holds this workspace (default: wait until it is done).",
    };

    /// <summary>Takes the lock of the workspace at <paramref name="root"/>, waiting as the option says.</summary>
    public static WorkspaceLock Acquire(ParseResult parse, Option<double?> option, string command, string root)
    {
        var timeout = parse.GetValue(option) is { } seconds ? TimeSpan.FromSeconds(Math.Max(0, seconds)) : Timeout.InfiniteTimeSpan;
        return WorkspaceLock.Acquire(root, command, timeout, Console.Error.WriteLine);
    }
}
