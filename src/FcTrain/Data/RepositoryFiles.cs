using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.Data;

/// <summary>
/// Lists files under a folder of the repository without ever leaving it: a symbolic link is followed only when
/// its final target lies inside the repository; a link out of it, and a link loop, are reported (naming the link)
/// and skipped, so nothing outside is read.
/// </summary>
internal static class RepositoryFiles
{
    private const int MaxLinkHops = 40;

    /// <summary>Every file under <paramref name="directory"/> (full paths as reached, sorted ordinally).</summary>
    public static List<string> Enumerate(string root, string directory, ICollection<Diagnostic> diagnostics)
    {
        string realRoot = RealPath(root) ?? root;
        var files = new List<string>();
        var ancestors = new HashSet<string>(StringComparer.Ordinal);
        Walk(root, realRoot, directory, RealPath(directory) ?? directory, ancestors, files, diagnostics);
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>
    /// The problem with following <paramref name="path"/> (a link loop, a target outside the repository), or null
    /// when it stays inside <paramref name="root"/>.
    /// </summary>
    public static string? Escapes(string root, string path)
    {
        string? real = RealPath(path);
        if (real is null) return "is a symbolic link loop (following it never ends)";
        return IsInside(real, RealPath(root) ?? root) ? null : "is a symbolic link to a path outside the repository; fctrain reads only files inside it";
    }

    private static void Walk(string root, string realRoot, string directory, string realDirectory, HashSet<string> ancestors,
        List<string> files, ICollection<Diagnostic> diagnostics)
    {
        ancestors.Add(realDirectory);
        foreach (var entry in new DirectoryInfo(directory).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0, IgnoreInaccessible = true }))
        {
            string? real = entry.LinkTarget is null ? Path.Combine(realDirectory, entry.Name) : RealPath(entry.FullName);
            if (real is null)
            {
                diagnostics.Add(LinkError(root, entry.FullName, "is a symbolic link loop (following it never ends). Remove the link or point it at a file."));
                continue;
            }
            if (entry.LinkTarget is not null && !IsInside(real, realRoot))
            {
                diagnostics.Add(LinkError(root, entry.FullName, "is a symbolic link to a path outside the repository; fctrain reads only files inside it. Copy the file into the dataset instead."));
                continue;
            }
            if (Directory.Exists(real))
            {
                if (ancestors.Contains(real))
                    diagnostics.Add(LinkError(root, entry.FullName, "is a symbolic link to a folder that contains it (a loop). Remove the link."));
                else
                    Walk(root, realRoot, entry.FullName, real, ancestors, files, diagnostics);
            }
            else if (File.Exists(real)) files.Add(entry.FullName);
        }
        ancestors.Remove(realDirectory);
    }

    private static Diagnostic LinkError(string root, string link, string problem) =>
        new(DatasetLoader.Relative(root, link), 0, 0, Severity.Error, DiagnosticCodes.LinkOutsideRepository, $"this path {problem}");

    /// <summary>Whether <paramref name="path"/> is <paramref name="root"/> or lies under it (both full, links resolved).</summary>
    public static bool IsInside(string path, string root)
    {
        string prefix = Path.TrimEndingDirectorySeparator(root);
        return path == prefix || path.StartsWith(prefix + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>The full path with every symbolic link resolved, component by component; null for a loop.</summary>
    public static string? RealPath(string path)
    {
        string full = Path.GetFullPath(path);
        string current = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(Segments(full).Reverse());
        int hops = 0;
        while (pending.TryPop(out string? segment))
        {
            if (segment == ".") continue;
            if (segment == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }
            string candidate = Path.Combine(current, segment);
            string? target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                current = candidate;
                continue;
            }
            if (++hops > MaxLinkHops) return null;
            string resolved = Path.GetFullPath(target, current);
            foreach (string s in Segments(resolved).Reverse()) pending.Push(s);
            current = Path.GetPathRoot(resolved)!;
        }
        return current;
    }

    private static IEnumerable<string> Segments(string full) =>
        full[Path.GetPathRoot(full)!.Length..].Split(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
}
