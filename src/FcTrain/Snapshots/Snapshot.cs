using System.Text.RegularExpressions;
using FcTrain.IO;

namespace FcTrain.Snapshots;

public enum SnapshotStatus
{
    /// <summary>The received text equals the verified file.</summary>
    Matched,
    /// <summary>They differ: the received file was written beside the verified one.</summary>
    Mismatched,
    /// <summary>No verified file yet: the received file was written for review.</summary>
    New,
    /// <summary>They differed (or none was verified) and the received text was accepted as verified.</summary>
    Accepted,
}

/// <summary>The outcome of one snapshot check. <see cref="Diff"/> is a unified diff (empty when matched).</summary>
public sealed record SnapshotResult(
    SnapshotStatus Status, string VerifiedPath, string ReceivedPath, string Diff, IReadOnlyList<string> ChangedSections)
{
    public bool Passed => Status is SnapshotStatus.Matched or SnapshotStatus.Accepted;
}

/// <summary>How a kind of snapshot is compared and shown.</summary>
/// <param name="Scrubbers">Rewrites applied to the received text before comparing: volatile parts (paths, times) become stable tokens.</param>
/// <param name="Section">A line pattern whose group 1 names a section (a case); changed sections are listed and head each diff hunk.</param>
/// <param name="DisplayRoot">Paths in diffs are shown relative to this folder (the repository root), with '/'.</param>
public sealed record SnapshotSettings(IReadOnlyList<Func<string, string>> Scrubbers, Regex? Section = null, string? DisplayRoot = null)
{
    public string Display(string path) =>
        DisplayRoot is null ? path : Path.GetRelativePath(DisplayRoot, Path.GetFullPath(path)).Replace('\\', '/');

    public static readonly SnapshotSettings Default = new([]);

    /// <summary>Replaces each occurrence of <paramref name="value"/> (e.g. the repository root) with <paramref name="token"/>.</summary>
    public static Func<string, string> Replace(string value, string token) =>
        text => value.Length == 0 ? text : text.Replace(value, token, StringComparison.Ordinal);

    /// <summary>Replaces ISO-8601 date-times with <c>{DateTime}</c>.</summary>
    public static readonly Func<string, string> DateTimes = text =>
        Regex.Replace(text, @"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?", "{DateTime}");

    /// <summary>Replaces GUIDs with <c>{Guid}</c>.</summary>
    public static readonly Func<string, string> Guids = text =>
        Regex.Replace(text, @"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b", "{Guid}");
}

/// <summary>
/// Snapshot testing with the conventions of Verify (VerifyTests), which cannot be restored here (its core
/// package is not served on this feed), so fctrain keeps this small module, used by the CLI and the tests:
/// <list type="bullet">
/// <item><c>NAME.verified.EXT</c> is checked in and reviewed like code;</item>
/// <item>a run produces the received text; scrubbed and normalised (LF, one final newline), it must equal the verified file;</item>
/// <item>on a mismatch <c>NAME.received.EXT</c> is written beside it and the check fails with a unified diff;</item>
/// <item>accepting promotes received to verified; a passing check deletes a stale received file.</item>
/// </list>
/// </summary>
public static class Snapshot
{
    public static string ReceivedPathOf(string verifiedPath)
    {
        string name = Path.GetFileName(verifiedPath);
        int at = name.LastIndexOf(".verified.", StringComparison.Ordinal);
        if (at < 0) throw new ArgumentException($"a snapshot file name must contain '.verified.': {verifiedPath}", nameof(verifiedPath));
        return Path.Combine(Path.GetDirectoryName(verifiedPath) ?? "", name[..at] + ".received." + name[(at + ".verified.".Length)..]);
    }

    /// <summary>Compares <paramref name="received"/> with the verified file; with <paramref name="accept"/> a difference is accepted at once.</summary>
    public static SnapshotResult Verify(string verifiedPath, string received, SnapshotSettings? settings = null, bool accept = false)
    {
        settings ??= SnapshotSettings.Default;
        string receivedPath = ReceivedPathOf(verifiedPath);
        string text = Normalize(settings.Scrubbers.Aggregate(received, (t, scrub) => scrub(t)));
        string? verified = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;

        if (verified == text)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return new SnapshotResult(SnapshotStatus.Matched, verifiedPath, receivedPath, "", []);
        }
        var diff = LineDiff.Of(verified ?? "", text);
        string shown = diff.Format(settings.Display(verifiedPath), settings.Display(receivedPath), settings.Section);
        IReadOnlyList<string> sections = settings.Section is null ? [] : diff.ChangedSections(settings.Section);
        if (accept)
        {
            AtomicFile.WriteAllText(verifiedPath, text);
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return new SnapshotResult(SnapshotStatus.Accepted, verifiedPath, receivedPath, shown, sections);
        }
        AtomicFile.WriteAllText(receivedPath, text);
        return new SnapshotResult(verified is null ? SnapshotStatus.New : SnapshotStatus.Mismatched, verifiedPath, receivedPath, shown, sections);
    }

    /// <summary>Promotes the received file of <paramref name="verifiedPath"/> to verified; false when there is none.</summary>
    public static bool Accept(string verifiedPath)
    {
        string receivedPath = ReceivedPathOf(verifiedPath);
        if (!File.Exists(receivedPath)) return false;
        File.Move(receivedPath, verifiedPath, overwrite: true);
        return true;
    }

    private static string Normalize(string text)
    {
        string t = text.Replace("\r\n", "\n").TrimEnd('\n');
        return t + "\n";
    }
}
