namespace FcTrain.Settings;

/// <summary>
/// The repository fctrain works in: the nearest folder at or above a start folder that holds <c>fctrain.json</c>,
/// else the nearest that holds <c>datasets/</c>, else the start folder itself. Every command finds it the same
/// way, so running one from a subfolder behaves as from the root.
/// </summary>
public sealed record Workspace(string Root)
{
    public const string DatasetsFolder = "datasets";

    public string ConfigFile => Path.Combine(Root, SettingsReader.FileName);
    /// <summary><c>obj/fctrain/</c>: shards, stamps, locks and logs; never committed.</summary>
    public string IntermediateDirectory => Path.Combine(Root, "obj", "fctrain");

    /// <summary>The workspace of <paramref name="start"/> (a folder or a file inside the workspace).</summary>
    public static Workspace Find(string start)
    {
        string full = Path.GetFullPath(start);
        string folder = Directory.Exists(full) ? full : Path.GetDirectoryName(full) ?? full;
        return new Workspace(Upward(folder, d => File.Exists(Path.Combine(d, SettingsReader.FileName)))
            ?? Upward(folder, d => Directory.Exists(Path.Combine(d, DatasetsFolder)))
            ?? folder);
    }

    static string? Upward(string folder, Func<string, bool> holds)
    {
        for (var dir = new DirectoryInfo(folder); dir is not null; dir = dir.Parent)
            if (holds(dir.FullName)) return dir.FullName;
        return null;
    }
}
