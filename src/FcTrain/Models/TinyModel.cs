using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>
/// The embedded default model: a small Gemma-2 over the real Gemma vocabulary (256,000 ids), with every
/// Gemma-2 feature switched on (sliding window on even layers, both soft-caps, GQA, head_dim·heads ≠ hidden),
/// and deterministic random weights. It lets every command and test run offline in seconds. It is written
/// once as an ordinary Hugging Face folder (config.json + model.safetensors) that other tools can load too.
/// </summary>
public static class TinyModel
{
    public const string Name = "tiny";
    private const int Seed = 20240627;   // the weights are a pure function of the config and this seed

    public static Gemma2Config Config { get; } = new()
    {
        VocabSize = 256000,
        HiddenSize = 128,
        IntermediateSize = 512,
        NumHiddenLayers = 2,         // one sliding-window layer, one global: enough for induction-style copying
        NumAttentionHeads = 2,       // attention over 1500-token rows dominates CPU time: few heads, few layers
        NumKeyValueHeads = 1,
        HeadDim = 64,
        QueryPreAttnScalar = 64,
        SlidingWindow = 256,
        AttnLogitSoftcapping = 50.0,
        FinalLogitSoftcapping = 30.0,
        MaxPositionEmbeddings = 8192,
        EosTokenId = JsonDocument.Parse("[1, 107]").RootElement.Clone(),
        TorchDtype = "float32",
    };

    /// <summary>The folder holding the tiny model, created on first use (atomically: a temp folder renamed into place).</summary>
    public static string EnsureMaterialized(string? cacheRoot = null)
    {
        string folder = Path.Combine(cacheRoot ?? DefaultCacheRoot(), "models", $"tiny-{Fingerprint()}");
        if (File.Exists(Path.Combine(folder, "model.safetensors")) && File.Exists(Path.Combine(folder, "config.json"))) return folder;

        string temp = folder + $".{Environment.ProcessId}.tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        using (var model = Create())
        {
            Config.Save(Path.Combine(temp, "config.json"));
            SafeTensorsWriter.Write(Path.Combine(temp, "model.safetensors"),
                model.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, p.Value)));
        }
        try { Directory.Move(temp, folder); }
        catch (IOException) when (Directory.Exists(folder)) { Directory.Delete(temp, recursive: true); }   // another process won the race
        return folder;
    }

    /// <summary>The tiny model with its deterministic weights: normal(0, 0.02) as transformers initialises Gemma, norms at zero (scale 1).</summary>
    public static Gemma2ForCausalLM Create()
    {
        var model = new Gemma2ForCausalLM(Config, ScalarType.Float32, CPU);
        var generator = new TorchSharp.torch.Generator(Seed);
        using var _ = no_grad();
        foreach (var (name, parameter) in model.named_parameters())
        {
            if (name.EndsWith("norm.weight", StringComparison.Ordinal)) parameter.zero_();
            else parameter.normal_(0, Config.InitializerRange, generator);
        }
        return model;
    }

    public static string DefaultCacheRoot() =>
        Environment.GetEnvironmentVariable("FCTRAIN_HOME") is { Length: > 0 } home
            ? home
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "fctrain");

    private static string Fingerprint()
    {
        string text = JsonSerializer.Serialize(Config) + $"|seed={Seed}|v1";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
    }
}
