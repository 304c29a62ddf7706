using FcTrain.Data;

namespace FcTrain.Tests.Evaluation;

/// <summary>The sample datasets of the repository, loaded once (real files, real validation).</summary>
internal static class SampleData
{
    private static readonly Lazy<IReadOnlyList<Dataset>> Loaded = new(() =>
    {
        LoadResult result = DatasetLoader.Load(RepoPaths.Root, []);
        Assert.False(result.HasErrors, string.Join("\n", result.Diagnostics));
        return result.Datasets;
    });

    public static IReadOnlyList<Dataset> Datasets => Loaded.Value;

    public static Dataset Named(string name) => Datasets.Single(d => d.Manifest.Name == name);

    /// <summary>A gold turn written back in the course format: what a model that reproduces the data generates.</summary>
    public static string RenderGold(Message gold)
    {
        string think = gold.Thinking is null ? "" : $"<think>{gold.Thinking}</think>";
        string calls = string.Concat((gold.ToolCalls ?? []).Select(c =>
            $"<tool_call>\n{{\"name\": \"{c.Name}\", \"arguments\": {c.Arguments.ToJsonString()}}}\n</tool_call>"));
        return think + calls + (gold.Text ?? "") + "<end_of_turn>";
    }

    /// <summary>A copy of the repository's datasets and schemas in a temporary folder, to edit freely; without the
    /// repository's snapshots, which pin the trained tiny model, not the outputs these tests feed in.</summary>
    public static string CopyToTemp()
    {
        string root = Directory.CreateTempSubdirectory("fctrain-samples-").FullName;
        foreach (string folder in new[] { "datasets", "schemas" })
            foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, folder), "*", SearchOption.AllDirectories))
            {
                string relative = Path.GetRelativePath(RepoPaths.Root, file);
                if (relative.Contains("/bin/") || relative.Contains("/obj/") || relative.Contains(".received.") || relative.Contains("/snapshots/")) continue;
                string target = Path.Combine(root, relative);
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(file, target);
            }
        return root;
    }
}
