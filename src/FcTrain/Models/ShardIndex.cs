using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Models;

/// <summary>
/// <c>model.safetensors.index.json</c>: <c>weight_map</c> names, for each tensor, the shard file that holds it.
/// Every name must be a file of the model folder itself: a path that leaves it is an error, never read.
/// </summary>
internal static class ShardIndex
{
    public const string InvalidCode = "FCT0219";
    public const string OutsideCode = "FCT0220";

    /// <summary>The distinct shard files of the index, as full paths inside <paramref name="folder"/>, sorted.</summary>
    public static List<string> Files(string folder, string indexPath)
    {
        using var json = JsonFileReader.Open(indexPath, InvalidCode);
        if (json.Get("weight_map") is not { ValueKind: JsonValueKind.Object } map)
            throw json.Error("/weight_map", "the index has no weight_map object (tensor name → shard file), so no weights can be found. Download the model's index again.");
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var files = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var entry in map.EnumerateObject())
        {
            string pointer = $"/weight_map/{entry.Name.Replace("~", "~0").Replace("/", "~1")}";
            if (entry.Value.ValueKind != JsonValueKind.String || entry.Value.GetString() is not { Length: > 0 } name)
                throw json.Error(pointer, $"must name a shard file, not {JsonFileReader.Describe(entry.Value)}.");
            string full = Path.GetFullPath(name, root);
            if (Path.IsPathRooted(name) || Path.GetDirectoryName(full) != root)
                throw new FcTrainException(json.Error(pointer, $"the shard '{name}' is not a file of the model folder; fctrain reads a model only inside its own folder.").Diagnostic with { Code = OutsideCode });
            files.Add(full);
        }
        if (files.Count == 0) throw json.Error("/weight_map", "weight_map is empty: the index names no shard.");
        return files.ToList();
    }
}
