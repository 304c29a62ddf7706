using System.Text.RegularExpressions;
using FcTrain.Diagnostics;

namespace FcTrain.Models;

/// <summary>A model folder and where it came from (for manifests and adapter_config.json).</summary>
public sealed record ResolvedModel(string Name, string Folder, string? Revision);

/// <summary>
/// Turns what a user names into a model folder: <c>tiny</c> (embedded), a folder on disk, or a Hugging Face Hub id
/// (<c>google/gemma-2-2b-it</c>) looked up in the standard Hugging Face cache, so weights Python users already
/// downloaded are reused; a missing Hub model is downloaded into that same cache layout.
/// </summary>
public static partial class ModelResolver
{
    public static ResolvedModel Resolve(string spec, Action<string>? log = null)
    {
        if (spec == TinyModel.Name) return new(TinyModel.Name, TinyModel.EnsureMaterialized(), null);
        if (Directory.Exists(spec)) return new(spec, Path.GetFullPath(spec), null);
        if (!HubId().IsMatch(spec))
            throw FcTrainException.Error("FCT0213", $"model '{spec}' is neither 'tiny', an existing folder, nor a Hugging Face Hub id like 'google/gemma-2-2b-it'.");

        var cache = new HubCache(HubCache.DefaultRoot());
        if (cache.Find(spec, "main") is { } cached) return new(spec, cached.Folder, cached.Revision);
        var downloaded = new HubDownloader(cache, log ?? (_ => { })).Download(spec, "main");
        return new(spec, downloaded.Folder, downloaded.Revision);
    }

    /// <summary>
    /// The folder whose <c>tokenizer.json</c> the model <paramref name="spec"/> uses, when it is on this machine already,
    /// without materializing weights or downloading anything; null means the embedded Gemma tokenizer (the tiny model's,
    /// and the vocabulary every Gemma-2 model shares), also for a Hub model not downloaded yet.
    /// </summary>
    public static string? LocalTokenizerFolder(string spec)
    {
        if (spec == TinyModel.Name) return null;
        if (Directory.Exists(spec)) return Path.GetFullPath(spec);
        return HubId().IsMatch(spec) ? new HubCache(HubCache.DefaultRoot()).Find(spec, "main")?.Folder : null;
    }

    [GeneratedRegex(@"^[A-Za-z0-9][\w.-]*/[\w.-]+$")]
    private static partial Regex HubId();
}
