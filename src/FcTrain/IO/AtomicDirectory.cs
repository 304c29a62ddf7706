using System.Diagnostics;
using System.Text.RegularExpressions;
using FcTrain.Diagnostics;

namespace FcTrain.IO;

/// <summary>
/// Crash-safe folder writes (adapters, checkpoints): the folder is written as <c>NAME.partial-ID</c> beside its
/// final place, the old one moved aside to <c>NAME.old-ID</c>, the new one renamed in, the old one deleted.
/// A write that fails (a full disk: FCT0501) leaves the old folder in place. A process killed in the middle
/// leaves those names behind (ID holds its process id); <see cref="CleanUp"/> repairs them (a folder moved aside comes back).
/// </summary>
public static partial class AtomicDirectory
{
    public static void Replace(string target, Action<string> write)
    {
        string full = Path.GetFullPath(target);
        string id = $"{Environment.ProcessId}.{Guid.NewGuid():N}", partial = $"{full}.partial-{id}", old = $"{full}.old-{id}";
        try
        {
            write(partial);
            if (Directory.Exists(full)) Directory.Move(full, old);
            Directory.Move(partial, full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailed(e, full);
        }
        catch (FcTrainException e) when (e.Diagnostic.File.StartsWith(partial, StringComparison.Ordinal))
        {
            // Name the file where the user will look for it, not its copy in the partial folder.
            throw new FcTrainException(e.Diagnostic with { File = full + e.Diagnostic.File[partial.Length..] });
        }
        finally
        {
            if (Directory.Exists(partial)) Directory.Delete(partial, recursive: true);
            if (Directory.Exists(old))
            {
                if (Directory.Exists(full)) Directory.Delete(old, recursive: true);
                else Directory.Move(old, full);   // the new one did not make it: keep the old one
            }
        }
    }

    /// <summary>
    /// Repairs what writers that are no longer running left in <paramref name="parent"/>: deletes their
    /// <c>*.partial-ID</c> folders and <see cref="AtomicFile"/> temporary files, and moves a <c>NAME.old-ID</c>
    /// folder back to NAME when NAME is missing (deleting it otherwise).
    /// </summary>
    public static void CleanUp(string parent)
    {
        if (!Directory.Exists(parent)) return;
        foreach (string dir in Directory.GetDirectories(parent))
        {
            var m = Leftover().Match(Path.GetFileName(dir));
            if (!m.Success || IsRunning(int.Parse(m.Groups["pid"].Value))) continue;
            string name = Path.Combine(parent, m.Groups["name"].Value);
            if (m.Groups["kind"].Value == "old" && !Directory.Exists(name)) Directory.Move(dir, name);
            else Directory.Delete(dir, recursive: true);
        }
        foreach (string file in Directory.GetFiles(parent, "*.tmp"))
            if (TempFile().Match(Path.GetFileName(file)) is { Success: true } m && !IsRunning(int.Parse(m.Groups["pid"].Value)))
                File.Delete(file);
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var process = Process.GetProcessById(pid); return !process.HasExited; }
        catch (ArgumentException) { return false; }
    }

    [GeneratedRegex(@"^(?<name>.+)\.(?<kind>partial|old)-(?<pid>\d+)\.[0-9a-f]{32}$")]
    private static partial Regex Leftover();

    [GeneratedRegex(@"\.(?<pid>\d+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TempFile();
}
