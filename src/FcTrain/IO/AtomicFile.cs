using System.Text;
using FcTrain.Diagnostics;

namespace FcTrain.IO;

/// <summary>
/// Crash-safe file writes: write a temporary file beside the target, flush it to disk, then rename it
/// over the target. A reader sees the old file or the new one, never half of one. A write that fails
/// (a full disk: FCT0501, any other I/O error: FCT0504) removes its temporary file and leaves the target as it was.
/// </summary>
public static class AtomicFile
{
    /// <summary>Test seam for failing writes: given a target path, a stream to write instead of its temporary file
    /// (e.g. <c>/dev/full</c>, a full disk), or null to write as usual. Scoped to the calling flow (AsyncLocal), so
    /// a test makes only its own writes fail.</summary>
    internal static readonly AsyncLocal<Func<string, Stream?>?> OpenTempOverride = new();

    public static void Write(string path, Action<Stream> write)
    {
        string full = Path.GetFullPath(path);
        string temp = $"{full}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            using (var stream = OpenTempOverride.Value?.Invoke(full) ?? new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                if (stream is FileStream file) file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw WriteFailed(e, full);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>ENOSPC (.NET puts the errno, 28 on Linux and macOS, in HResult); ERROR_HANDLE_DISK_FULL (39) or ERROR_DISK_FULL (112) on Windows.</summary>
    public static bool IsDiskFull(Exception e) => e is IOException &&
        (OperatingSystem.IsWindows() ? (e.HResult & 0xFFFF) is 39 or 112 : e.HResult == 28);

    /// <summary>The diagnostic for a write to <paramref name="path"/> that failed with <paramref name="e"/>.</summary>
    public static FcTrainException WriteFailed(Exception e, string path) => IsDiskFull(e)
        ? FcTrainException.Error("FCT0501", "no space left on the device while writing this file. Nothing was replaced: the previous shards, checkpoints and adapter are intact. Free some space, then run again.", path)
        : FcTrainException.Error("FCT0504", $"cannot write this file ({Reason(e)}). Nothing was replaced. Check the folder's permissions and that its file system is writable, then run again.", path);

    /// <summary>The system's reason without the path .NET appends (the diagnostic names the file already).</summary>
    static string Reason(Exception e) => e.Message.Split(" : '")[0].Split(" '/")[0].TrimEnd('.', ' ');

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        byte[] copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    /// <summary>Writes only when the content differs, so file timestamps (and incremental builds) stay put.</summary>
    public static bool WriteAllTextIfChanged(string path, string text)
    {
        if (File.Exists(path) && File.ReadAllText(path) == text) return false;
        WriteAllText(path, text);
        return true;
    }
}
