using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models.Gemma2;
using FcTrain.Packing;
using FcTrain.Settings;
using FcTrain.Tokenization;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// A model ready to run: the one path every command takes from settings to weights.
/// resolve (tiny, a folder, a Hub id) → load on the device in the dtype → the adapter, if any → the tokenizer that
/// goes with them (the adapter's, else the model's, else the embedded one).
/// </summary>
public sealed class ModelSession : IDisposable
{
    public const string MissingAdapter = "FCT0406";

    public required ResolvedModel Resolved { get; init; }
    public required Gemma2ForCausalLM Model { get; init; }
    public required GemmaTokenizer Tokenizer { get; init; }
    public required Device Device { get; init; }
    /// <summary>The adapter folder applied (full path), or null.</summary>
    public string? Adapter { get; init; }

    /// <summary>
    /// Opens <see cref="FcTrainSettings.Model"/> on <see cref="FcTrainSettings.Device"/> in <see cref="FcTrainSettings.Dtype"/>
    /// (<paramref name="dtype"/> overrides it: merge keeps the checkpoint's precision), applies <paramref name="adapter"/>
    /// and picks the tokenizer with <paramref name="toolTokens"/> for the markup.
    /// </summary>
    public static ModelSession Open(FcTrainSettings settings, string? adapter, ToolTokenMode toolTokens, Action<string> log,
        Device? device = null, ScalarType? dtype = null)
    {
        if (adapter is not null && !File.Exists(Path.Combine(adapter, PeftAdapter.ConfigFile)))
            throw FcTrainException.Error(MissingAdapter, $"no PEFT adapter here ({PeftAdapter.ConfigFile} is missing). Train one first (dotnet build -t:Train or fctrain train), or pass the adapter folder it wrote.", adapter);
        ResolvedModel resolved = ModelResolver.Resolve(settings.Model, log);
        Device target = device ?? Devices.Resolve(settings.Device);
        var model = ModelLoader.Load(resolved.Folder, dtype ?? Devices.DType(settings.Dtype, target), target);
        try
        {
            string? adapterFolder = adapter is null ? null : Path.GetFullPath(adapter);
            if (adapterFolder is not null) PeftAdapter.Load(model, adapterFolder);
            return new ModelSession
            {
                Resolved = resolved,
                Model = model,
                Tokenizer = GemmaTokenizer.ForModel(adapterFolder, resolved.Folder, toolTokens),
                Device = target,
                Adapter = adapterFolder,
            };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The tokenizer of a model without loading its weights (what <c>tokenize</c> encodes with).</summary>
    public static GemmaTokenizer TokenizerFor(FcTrainSettings settings, ToolTokenMode toolTokens, Action<string> log) =>
        GemmaTokenizer.ForModel(null, ModelResolver.Resolve(settings.Model, log).Folder, toolTokens);

    /// <summary>Generating needs a row for every id the tokenizer can produce (tool_tokens "added" without its adapter has none).</summary>
    public void RequireVocabulary() => Model.RequireVocabulary(Tokenizer.VocabSize, Tokenizer.Source);

    /// <summary>The shards must have been made with this session's tokenizer (FCT0230); see <see cref="ShardReader.CheckTokenizer"/>.</summary>
    public void CheckTokenizer(string shardManifest, string source) =>
        ShardReader.CheckTokenizer(shardManifest, Tokenizer, Resolved.Name, source);

    /// <summary>The shards manifest an adapter was trained on (recorded in its <c>fctrain-run.json</c>), if known.</summary>
    public string? AdapterShardManifest()
    {
        string run = Adapter is null ? "" : Path.Combine(Adapter, "fctrain-run.json");
        if (!File.Exists(run)) return null;
        try { return JsonNode.Parse(File.ReadAllText(run))?["data"]?["manifest"]?.ToJsonString(); }
        catch (System.Text.Json.JsonException) { return null; }
    }

    public void Dispose() => Model.Dispose();
}
