using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Reporting;

/// <summary>
/// The git repository around a workspace, read through the <c>git</c> command: a commit's files come out of the
/// object database (<c>git ls-tree</c>, <c>git cat-file</c>), so nothing is checked out and the working tree, the
/// index and HEAD are never touched.
/// </summary>
public sealed class GitRepository
{
    public const string NotARepository = "FCT0705", UnknownRevision = "FCT0706";

    private GitRepository(string topLevel) => TopLevel = topLevel;

    /// <summary>The repository's root folder (links resolved).</summary>
    public string TopLevel { get; }

    /// <summary>The repository <paramref name="directory"/> lies in; usage error FCT0705 outside one, or without git.</summary>
    public static GitRepository Open(string directory, string flag = "--base")
    {
        var (exit, stdout, stderr) = Run(directory, ["rev-parse", "--show-toplevel"], input: null);
        if (exit != 0)
            throw FcTrainException.Usage(NotARepository,
                $"{flag} compares with a git revision, but {directory} is not inside a git repository ({FirstLine(stderr)}). Run it in a clone of the repository, or leave {flag} out.");
        return new GitRepository(Encoding.UTF8.GetString(stdout).TrimEnd('\n', '\r'));
    }

    /// <summary>The commit <paramref name="revision"/> names (a branch, tag, remote branch or hash); usage error FCT0706 if none.</summary>
    public string ResolveCommit(string revision, string flag = "--base")
    {
        if (revision.Length == 0 || revision.StartsWith('-'))
            throw FcTrainException.Usage(UnknownRevision, $"{flag} '{revision}' is not a git revision. Name a branch, tag or commit, e.g. {flag} origin/main.");
        var (exit, stdout, _) = Run(TopLevel, ["rev-parse", "--verify", "--quiet", "--end-of-options", revision + "^{commit}"], input: null);
        if (exit != 0)
            throw FcTrainException.Usage(UnknownRevision,
                $"{flag} '{revision}' names no commit of the repository at {TopLevel}. Check the name (git branch -a lists them); in CI, fetch the base branch too "
                + "(actions/checkout with fetch-depth: 0).");
        return Encoding.ASCII.GetString(stdout).Trim();
    }

    /// <summary>
    /// Copies the files of <paramref name="commit"/> under <paramref name="folder"/> (a folder of the working tree, full
    /// path) into <paramref name="destination"/>, keeping their paths relative to <paramref name="folder"/>. Regular
    /// files only: symbolic links and submodules are left out.
    /// </summary>
    public void Extract(string commit, string folder, string destination)
    {
        string prefix = Path.GetRelativePath(TopLevel, RepositoryFiles.RealPath(folder) ?? folder).Replace('\\', '/');
        if (prefix == ".." || prefix.StartsWith("../", StringComparison.Ordinal))
            throw new ArgumentException($"{folder} is outside the repository {TopLevel}", nameof(folder));
        var args = new List<string> { "ls-tree", "-r", "-z", "--full-tree", commit };
        if (prefix != ".") args.AddRange(["--", prefix]);
        var (exit, listing, stderr) = Run(TopLevel, args, input: null);
        if (exit != 0) throw new InvalidOperationException($"git ls-tree failed: {FirstLine(stderr)}");

        // "<mode> <type> <object>\t<path>\0" per entry; regular files only (100644, 100755).
        var blobs = new List<(string Object, string Path)>();
        foreach (string entry in Encoding.UTF8.GetString(listing).Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            int tab = entry.IndexOf('\t');
            string[] head = entry[..tab].Split(' ');
            if (head[1] != "blob" || head[0] == "120000") continue;
            string path = entry[(tab + 1)..];
            string relative = prefix == "." ? path : path[(prefix.Length + 1)..];
            blobs.Add((head[2], relative));
        }
        if (blobs.Count == 0) return;

        // One git process for every blob: "<object> blob <size>\n<bytes>\n" per request line.
        string requests = string.Concat(blobs.Select(b => b.Object + "\n"));
        var (catExit, contents, catError) = Run(TopLevel, ["cat-file", "--batch"], requests);
        if (catExit != 0) throw new InvalidOperationException($"git cat-file failed: {FirstLine(catError)}");
        int at = 0;
        string root = Path.GetFullPath(destination);
        foreach (var (_, relative) in blobs)
        {
            int newline = Array.IndexOf(contents, (byte)'\n', at);
            string[] header = Encoding.ASCII.GetString(contents, at, newline - at).Split(' ');
            int size = int.Parse(header[2], System.Globalization.CultureInfo.InvariantCulture);
            string target = Path.GetFullPath(relative, root);
            if (!RepositoryFiles.IsInside(target, root)) throw new InvalidOperationException($"git listed a path outside the folder: {relative}");
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.WriteAllBytes(target, contents.AsSpan(newline + 1, size));
            at = newline + 1 + size + 1;
        }
    }

    private static (int ExitCode, byte[] Stdout, string Stderr) Run(string directory, IEnumerable<string> args, string? input)
    {
        var start = new ProcessStartInfo("git")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in args) start.ArgumentList.Add(arg);
        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["LC_ALL"] = "C";
        start.Environment["GIT_LITERAL_PATHSPECS"] = "1";   // a folder name is a path, never a pattern
        Process process;
        try { process = Process.Start(start)!; }
        catch (Win32Exception e)
        {
            throw FcTrainException.Usage(NotARepository, $"--base needs the git command, which cannot be run here ({e.Message}). Install git, or leave --base out.");
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var writer = input is null ? Task.CompletedTask : Task.Run(() =>
            {
                process.StandardInput.Write(input);
                process.StandardInput.Close();
            });
            using var stdout = new MemoryStream();
            process.StandardOutput.BaseStream.CopyTo(stdout);
            process.WaitForExit();
            writer.Wait();
            return (process.ExitCode, stdout.ToArray(), stderr.Result);
        }
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no message";
}
