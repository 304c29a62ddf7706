using FcTrain.Tokenization;

namespace FcTrain.Tests.Tokenization;

/// <summary>HF tokenizers (Rust, via Tokenizers.DotNet) loaded with the same tokenizer.json: the reference for ids.</summary>
public sealed class HuggingFaceReference
{
    private static readonly Lazy<HuggingFaceReference> Shared = new(() => new HuggingFaceReference());
    private readonly Tokenizers.DotNet.Tokenizer _tokenizer;

    public static HuggingFaceReference Gemma => Shared.Value;

    private HuggingFaceReference()
    {
        string path = Path.Combine(Path.GetTempPath(), $"fctrain-gemma-{GemmaTokenizer.Embedded().ContentHash[..16]}.tokenizer.json");
        if (!File.Exists(path)) FcTrain.IO.AtomicFile.WriteAllBytes(path, GemmaTokenizer.Embedded().OriginalJson);
        _tokenizer = new Tokenizers.DotNet.Tokenizer(path);
    }

    /// <summary>HF's ids for <paramref name="text"/> without the <c>&lt;bos&gt;</c> its post-processor adds.</summary>
    public int[] Encode(string text)
    {
        var ids = _tokenizer.Encode(text).Select(i => (int)i).ToArray();
        return ids.Length > 0 && ids[0] == GemmaTokenizer.BosId ? ids[1..] : ids;
    }

    public string Decode(IEnumerable<int> ids) => _tokenizer.Decode(ids.Select(i => (uint)i).ToArray());
}
