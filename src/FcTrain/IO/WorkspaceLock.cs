using System.Diagnostics;
using FcTrain.Diagnostics;

namespace FcTrain.IO;

/// <summary>
/// One fctrain process at a time writes a workspace's shards, checkpoints and adapter: <c>tokenize</c> and
/// <c>train</c> hold <c>obj/fctrain/fctrain.lock</c> open with <see cref="FileShare.None"/> (an OS file lock,
/// released when the process ends, even under kill -9). A second process waits, saying so, until the lock is
/// free or its timeout passes (FCT0502). <c>fctrain.lock.owner</c> beside it names the holder.
/// </summary>
public sealed class WorkspaceLock : IDisposable
{
    public const string Folder = "obj/fctrain", FileName = "fctrain.lock";
    static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    readonly FileStream stream;

    WorkspaceLock(FileStream stream) => this.stream = stream;

    /// <summary>The lock file of the workspace rooted at <paramref name="workspace"/>.</summary>
    public static string PathIn(string workspace) => Path.Combine(Path.GetFullPath(workspace), Folder, FileName);

    /// <param name="command">What takes the lock (shown to the processes that wait for it).</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits as long as it takes.</param>
    /// <param name="log">Told once when the lock is held by another process.</param>
    public static WorkspaceLock Acquire(string workspace, string command, TimeSpan timeout, Action<string> log)
    {
        string path = PathIn(workspace), owner = path + ".owner";
        try { Directory.CreateDirectory(Path.GetDirectoryName(path)!); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw AtomicFile.WriteFailed(e, path); }
        var waited = Stopwatch.StartNew();
        bool told = false;
        while (true)
        {
            if (TryOpen(path) is { } stream)
            {
                try { File.WriteAllText(owner, $"pid {Environment.ProcessId} ({command}) since {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}\n"); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    stream.Dispose();
                    throw AtomicFile.WriteFailed(e, owner);
                }
                return new WorkspaceLock(stream);
            }
            if (timeout != Timeout.InfiniteTimeSpan && waited.Elapsed >= timeout)
                throw FcTrainException.Error("FCT0502",
                    $"another fctrain process still holds this workspace ({Holder(owner)}) after {timeout.TotalSeconds:F0} s of waiting. " +
                    "Let it finish (or stop it), then run again; or raise --lock-timeout.", path);
            if (!told)
            {
                log($"fctrain: waiting for another fctrain process to finish with this workspace ({Holder(owner)}); lock {path}");
                told = true;
            }
            Thread.Sleep(Poll);
        }
    }

    static FileStream? TryOpen(string path)
    {
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) when (File.Exists(path)) { return null; } // held by another process
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw AtomicFile.WriteFailed(e, path); }
    }

    static string Holder(string owner)
    {
        try { return File.ReadAllText(owner).Trim(); }
        catch (IOException) { return "holder unknown"; }
    }

    public void Dispose() => stream.Dispose();
}
