using System.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Tests.IO;

/// <summary>What a writer killed between the steps of a folder swap leaves behind, and how the next run repairs it.</summary>
public sealed class AtomicDirectoryTests : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("fctrain-atomicdir-").FullName;
    public void Dispose() => Directory.Delete(root, recursive: true);

    static int DeadProcessId()
    {
        using var process = Process.Start("true")!;
        process.WaitForExit();
        return process.Id;
    }

    static string Folder(string path, string content)
    {
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "weights"), content);
        return path;
    }

    [Fact]
    public void Replace_swaps_the_folder_and_keeps_the_old_one_when_the_new_one_fails()
    {
        string adapter = Folder(Path.Combine(root, "adapter"), "old");
        AtomicDirectory.Replace(adapter, partial => Folder(partial, "new"));
        Assert.Equal("new", File.ReadAllText(Path.Combine(adapter, "weights")));

        Assert.Throws<InvalidOperationException>(() => AtomicDirectory.Replace(adapter, partial =>
        {
            Folder(partial, "half");
            throw new InvalidOperationException("the writer failed");
        }));
        Assert.Equal("new", File.ReadAllText(Path.Combine(adapter, "weights")));
        Assert.Equal(["adapter"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName));
    }

    [Fact]
    public void CleanUp_puts_back_a_folder_moved_aside_and_removes_the_leftovers_of_dead_writers_only()
    {
        int dead = DeadProcessId(), alive = Environment.ProcessId;
        // Killed after moving the old adapter aside, before renaming the new one in.
        Folder(Path.Combine(root, $"adapter.old-{dead}.{Guid.NewGuid():N}"), "previous");
        Folder(Path.Combine(root, $"adapter.partial-{dead}.{Guid.NewGuid():N}"), "next");
        // Killed while writing a checkpoint that already had a complete predecessor, and a file's temporary copy.
        Folder(Path.Combine(root, "step-000002"), "two");
        Folder(Path.Combine(root, $"step-000002.old-{dead}.{Guid.NewGuid():N}"), "stale");
        File.WriteAllText(Path.Combine(root, $"metrics.jsonl.{dead}.{Guid.NewGuid():N}.tmp"), "{\"step\":");
        // What a live writer is doing right now stays.
        string busy = Folder(Path.Combine(root, $"step-000003.partial-{alive}.{Guid.NewGuid():N}"), "three");

        AtomicDirectory.CleanUp(root);

        Assert.Equal("previous", File.ReadAllText(Path.Combine(root, "adapter", "weights")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(root, "step-000002", "weights")));
        Assert.Equal(["adapter", "step-000002", Path.GetFileName(busy)],
            Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
