using FcTrain.Tokenization;

namespace FcTrain.Tests.Tokenization;

/// <summary>
/// The reference: Hugging Face's Rust <c>tokenizers</c> (via Tokenizers.DotNet), loaded either from the tokenizer.json
/// that <see cref="GemmaTokenizer.Save"/> writes (turn and markup tokens declared: HF parses them in text, as
/// <c>apply_chat_template</c> + <c>tokenizer(text)</c> does) or from the shipped source file (only
/// <c>&lt;pad&gt; &lt;eos&gt; &lt;bos&gt; &lt;unk&gt;</c> declared: everything else is plain text, as in our Encode).
/// </summary>
public sealed class HfTokenizer : IDisposable
{
    readonly Tokenizers.DotNet.Tokenizer _hf;
    readonly string _dir;

    HfTokenizer(Func<string, string> writeInto)
    {
        _dir = Directory.CreateTempSubdirectory("fctrain-hf-").FullName;
        _hf = new Tokenizers.DotNet.Tokenizer(writeInto(_dir));
    }

    /// <summary>HF on the tokenizer.json our tokenizer saves (turn and markup tokens are added tokens).</summary>
    public static HfTokenizer Describing(GemmaTokenizer tokenizer) => new(tokenizer.Save);

    /// <summary>HF on the embedded source tokenizer.json, unchanged.</summary>
    public static HfTokenizer OnSourceFile() => new(dir =>
    {
        string path = Path.Combine(dir, "tokenizer.json");
        using var resource = typeof(GemmaTokenizer).Assembly.GetManifestResourceStream("FcTrain.Tokenization.gemma-tokenizer.json.gz")!;
        using var gzip = new System.IO.Compression.GZipStream(resource, System.IO.Compression.CompressionMode.Decompress);
        using var file = File.Create(path);
        gzip.CopyTo(file);
        return path;
    });

    /// <summary>HF's ids for the text, without the <c>&lt;bos&gt;</c> its post-processor adds.</summary>
    public int[] Encode(string text)
    {
        uint[] ids = _hf.Encode(text);
        int skip = ids.Length > 0 && ids[0] == 2 ? 1 : 0;
        return ids.Skip(skip).Select(i => (int)i).ToArray();
    }

    public string Decode(IEnumerable<int> ids) => _hf.Decode(ids.Select(i => (uint)i).ToArray());

    public void Dispose()
    {
        _hf.Dispose();
        Directory.Delete(_dir, recursive: true);
    }
}
