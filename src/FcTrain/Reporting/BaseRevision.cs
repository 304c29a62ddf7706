using FcTrain.Data;

namespace FcTrain.Reporting;

/// <summary>The datasets as a git revision has them (<c>--base REF</c>), read from git's objects into a temporary folder.</summary>
public sealed record BaseRevision(string Name, string Commit, IReadOnlyList<Dataset> Datasets)
{
    /// <summary>
    /// Loads the base side of <paramref name="current"/>: the same dataset folders (every dataset under
    /// <c>datasets/</c> when <paramref name="paths"/> is empty, so removed datasets show) at <paramref name="revision"/>,
    /// with the loader of <c>fctrain validate</c>. Only records valid at the base count; the base's own problems are not
    /// reported (they are the base's). Usage errors FCT0705 (no git repository) and FCT0706 (no such revision).
    /// </summary>
    public static BaseRevision Load(string root, string revision, IReadOnlyList<string> paths, IReadOnlyList<Dataset> current)
    {
        root = Path.GetFullPath(root);
        var git = GitRepository.Open(root);
        string commit = git.ResolveCommit(revision);
        var folders = paths.Count == 0 ? ["datasets"] : current.Select(d => d.Directory).Distinct().ToList();
        var temp = Directory.CreateTempSubdirectory("fctrain-base-");
        try
        {
            foreach (string folder in folders)
                git.Extract(commit, Path.GetFullPath(folder, root), Path.Combine(temp.FullName, folder));
            var present = folders.Where(f => Directory.Exists(Path.Combine(temp.FullName, f))).ToList();
            var datasets = present.Count == 0 ? [] : DatasetLoader.Load(temp.FullName, present).Datasets;
            return new BaseRevision(revision, commit, datasets);
        }
        finally
        {
            temp.Delete(recursive: true);
        }
    }
}
