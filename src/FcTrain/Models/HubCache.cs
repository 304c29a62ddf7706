namespace FcTrain.Models;

/// <summary>
/// The Hugging Face Hub cache layout (huggingface_hub's):
/// <c>{root}/models--{org}--{name}/refs/{branch}</c> holds a commit hash; <c>snapshots/{commit}/{file}</c> are links to
/// <c>blobs/{etag}</c>. The root is <c>$HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>~/.cache/huggingface/hub</c>.
/// </summary>
public sealed class HubCache(string root)
{
    public string Root { get; } = root;

    public static string DefaultRoot()
    {
        if (Environment.GetEnvironmentVariable("HF_HUB_CACHE") is { Length: > 0 } hubCache) return hubCache;
        if (Environment.GetEnvironmentVariable("HF_HOME") is { Length: > 0 } home) return Path.Combine(home, "hub");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface", "hub");
    }

    public string RepoFolder(string repoId) => Path.Combine(Root, "models--" + repoId.Replace("/", "--"));

    /// <summary>The snapshot folder of <paramref name="revision"/> (a branch name or a commit), if it holds a usable model.</summary>
    public (string Folder, string Revision)? Find(string repoId, string revision)
    {
        string repo = RepoFolder(repoId);
        string refFile = Path.Combine(repo, "refs", revision);
        string commit = File.Exists(refFile) ? File.ReadAllText(refFile).Trim() : revision;
        string folder = Path.Combine(repo, "snapshots", commit);
        bool complete = File.Exists(Path.Combine(folder, "config.json"))
            && (File.Exists(Path.Combine(folder, "model.safetensors")) || File.Exists(Path.Combine(folder, "model.safetensors.index.json")));
        return complete ? (folder, commit) : null;
    }
}
