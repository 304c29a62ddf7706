using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.IO;
using Microsoft.ML.Tokenizers;

namespace FcTrain.Tokenization;

/// <summary>How the tool markup tokens (<see cref="GemmaTokenizer.MarkupTokens"/>) get ids.</summary>
public enum ToolMarkup
{
    /// <summary>Map them onto Gemma's reserved <c>&lt;unused0&gt;</c>..<c>&lt;unused7&gt;</c>: no new ids, base model untouched.</summary>
    Reserved,
    /// <summary>Append them as new ids 256000.. (the agents course's way; the embeddings must be resized).</summary>
    Added,
}

/// <summary>
/// The Gemma tokenizer, id-for-id equal to Hugging Face <c>tokenizers</c> on the same <c>tokenizer.json</c>.
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> does the merges; around it, three things HF's
/// description implies but the library does differently (see ../shared/NOTES.md):
/// 1. chunking: the normalised text is cut into <c>\n+ | ▁*[^▁\n]+ | ▁+</c>. No Gemma piece crosses these cuts,
///    so BPE per chunk equals HF's BPE of the whole text (which is one "word": the file has no pre-tokenizer),
///    and a chunk cache makes repeated words free;
/// 2. byte fallback: a character outside the vocabulary becomes the <c>&lt;0xXX&gt;</c> pieces of its UTF-8 bytes;
/// 3. decoding: <c>▁</c> -> space, byte pieces -> UTF-8 (invalid bytes -> U+FFFD), special pieces kept as text.
/// <see cref="Encode"/> never parses special tokens: any text, including a literal <c>&lt;end_of_turn&gt;</c>,
/// stays text. Structural tokens come from the chat template as ids (<see cref="TokenId"/>).
/// Thread-safe.
/// </summary>
public sealed class GemmaTokenizer
{
    /// <summary>The tool markup of the Hermes function-calling format, in the agents course's order.</summary>
    public static readonly IReadOnlyList<string> MarkupTokens =
        ["<tools>", "</tools>", "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"];

    /// <summary>Pieces a chat template emits as single ids.</summary>
    public static readonly IReadOnlyList<string> StructuralTokens = ["<bos>", "<eos>", "<pad>", "<start_of_turn>", "<end_of_turn>"];

    const string EmbeddedResource = "FcTrain.Tokenization.gemma-tokenizer.json.gz";
    const int MaxCachedChunk = 48;
    const int MaxCacheEntries = 1 << 20;

    readonly BpeTokenizer _bpe;
    readonly string[] _pieces;                      // id -> piece (vocabulary and added tokens)
    readonly Dictionary<string, int> _ids;          // piece -> id
    readonly int[] _byteIds = new int[256];         // byte -> id of <0xXX> (unk where the vocabulary lacks it)
    readonly int[] _byteOfId;                       // id -> byte value, or -1
    readonly int _unk;
    readonly byte[] _sourceJson;                    // the tokenizer.json this was built from
    readonly IReadOnlyDictionary<string, int> _markupIds;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheBySpan;

    public ToolMarkup Markup { get; }
    /// <summary>Number of ids, including appended markup tokens (256000, or 256008 with <see cref="ToolMarkup.Added"/>).</summary>
    public int VocabSize => _pieces.Length;
    /// <summary>sha256 (hex) of the source tokenizer.json and the markup mapping: changes whenever ids could.</summary>
    public string ContentHash { get; }
    /// <summary>Where it was loaded from ("embedded" or a folder).</summary>
    public string Origin { get; }

    public int Bos { get; }
    public int Eos { get; }
    public int Pad { get; }
    public int StartOfTurn { get; }
    public int EndOfTurn { get; }

    static readonly ConcurrentDictionary<ToolMarkup, Lazy<GemmaTokenizer>> EmbeddedInstances = new();

    /// <summary>The Gemma tokenizer shipped with fctrain (loaded once per markup mode, then shared).</summary>
    public static GemmaTokenizer Embedded(ToolMarkup markup = ToolMarkup.Reserved) =>
        EmbeddedInstances.GetOrAdd(markup, m => new Lazy<GemmaTokenizer>(() =>
        {
            using var resource = typeof(GemmaTokenizer).Assembly.GetManifestResourceStream(EmbeddedResource)
                ?? throw new InvalidOperationException($"resource {EmbeddedResource} missing from the assembly");
            using var gzip = new GZipStream(resource, CompressionMode.Decompress);
            using var bytes = new MemoryStream();
            gzip.CopyTo(bytes);
            return new GemmaTokenizer(bytes.ToArray(), "embedded", m);
        })).Value;

    /// <summary>Loads <c>tokenizer.json</c> from a Hugging Face model folder.</summary>
    public static GemmaTokenizer FromFolder(string directory, ToolMarkup markup = ToolMarkup.Reserved)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0101", $"no tokenizer.json in '{directory}': a Hugging Face model folder holds one; pass the model folder or leave the option out to use the embedded Gemma tokenizer.", directory);
        return new GemmaTokenizer(File.ReadAllBytes(path), path, markup);
    }

    GemmaTokenizer(byte[] tokenizerJson, string origin, ToolMarkup markup)
    {
        _sourceJson = tokenizerJson;
        Origin = origin;
        Markup = markup;
        var (vocab, merges, added, unkPiece) = Parse(tokenizerJson, origin);

        var pieces = new List<string>(vocab.Count + added.Count);
        _ids = new Dictionary<string, int>(vocab.Count + added.Count + 8, StringComparer.Ordinal);
        foreach (var (piece, id) in vocab.Concat(added))
        {
            while (pieces.Count <= id) pieces.Add("");
            pieces[id] = piece;
            _ids[piece] = id;
        }

        // Tool markup: a folder saved by fctrain already names them (renamed <unusedN> or added ids); else map them now.
        var markupIds = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < MarkupTokens.Count; i++)
        {
            string token = MarkupTokens[i];
            if (_ids.TryGetValue(token, out int existing)) { markupIds[token] = existing; continue; }
            int id;
            if (markup == ToolMarkup.Reserved)
            {
                string reserved = $"<unused{i}>";
                if (!_ids.TryGetValue(reserved, out id))
                    throw FcTrainException.Error("FCT0102", $"the tokenizer has no reserved piece '{reserved}' to carry '{token}': use tool tokens 'added' with this tokenizer.", origin);
                pieces[id] = token;
                _ids.Remove(reserved);
            }
            else
            {
                id = pieces.Count;
                pieces.Add(token);
            }
            _ids[token] = id;
            markupIds[token] = id;
        }
        _markupIds = markupIds;
        _pieces = [.. pieces];

        _unk = Require(unkPiece, origin);
        Bos = Require("<bos>", origin);
        Eos = Require("<eos>", origin);
        Pad = Require("<pad>", origin);
        StartOfTurn = Require("<start_of_turn>", origin);
        EndOfTurn = Require("<end_of_turn>", origin);

        _byteOfId = new int[_pieces.Length];
        Array.Fill(_byteOfId, -1);
        for (int b = 0; b < 256; b++)
        {
            _byteIds[b] = vocab.TryGetValue($"<0x{b:X2}>", out int id) ? id : _unk;
            if (_byteIds[b] != _unk) _byteOfId[id] = b;
        }

        // The BPE model sees the plain vocabulary only: no special tokens (they are never parsed from text),
        // no normaliser or pre-tokenizer (Encode normalises and chunks itself), unknown characters kept one
        // token each so byte fallback can replace them.
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            UnknownToken = unkPiece,
            FuseUnknownTokens = false,
        });

        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(tokenizerJson);
        sha.AppendData(Encoding.UTF8.GetBytes("\0markup:" + string.Join(",", MarkupTokens.Select(t => $"{t}={markupIds[t]}"))));
        ContentHash = Convert.ToHexStringLower(sha.GetHashAndReset());
        _cacheBySpan = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    int Require(string piece, string origin) => _ids.TryGetValue(piece, out int id) ? id
        : throw FcTrainException.Error("FCT0102", $"the tokenizer has no piece '{piece}': it is not a Gemma tokenizer.", origin);

    static (Dictionary<string, int> Vocab, List<string> Merges, List<KeyValuePair<string, int>> Added, string Unk) Parse(byte[] json, string origin)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            var model = doc.RootElement.GetProperty("model");
            if (model.GetProperty("type").GetString() != "BPE" || !model.TryGetProperty("byte_fallback", out var bf) || !bf.GetBoolean())
                throw FcTrainException.Error("FCT0102", "tokenizer.json is not a BPE model with byte fallback: it is not a Gemma tokenizer.", origin);
            var vocab = new Dictionary<string, int>(300_000, StringComparer.Ordinal);
            foreach (var p in model.GetProperty("vocab").EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();
            var merges = new List<string>(600_000);
            foreach (var m in model.GetProperty("merges").EnumerateArray())
                merges.Add(m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!);
            var added = new List<KeyValuePair<string, int>>();
            if (doc.RootElement.TryGetProperty("added_tokens", out var addedTokens))
                foreach (var t in addedTokens.EnumerateArray())
                {
                    int id = t.GetProperty("id").GetInt32();
                    string content = t.GetProperty("content").GetString()!;
                    if (!vocab.ContainsKey(content) || vocab[content] != id) added.Add(new(content, id));
                }
            string unk = model.TryGetProperty("unk_token", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "<unk>";
            return (vocab, merges, added, unk);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw FcTrainException.Error("FCT0102", $"tokenizer.json is not a readable Hugging Face tokenizer description ({e.Message}).", origin);
        }
    }

    /// <summary>The id of a piece (a structural token, tool markup, or any vocabulary piece).</summary>
    public int TokenId(string piece) => _ids.TryGetValue(piece, out int id) ? id
        : throw new ArgumentException($"'{piece}' is not a piece of this tokenizer", nameof(piece));

    /// <summary>The piece of an id, as written in the vocabulary (<c>▁</c> for spaces, <c>&lt;0x0A&gt;</c> for bytes).</summary>
    public string Piece(int id) => _pieces[id];

    /// <summary>Ids of the tool markup tokens in this tokenizer.</summary>
    public IReadOnlyDictionary<string, int> MarkupIds => _markupIds;

    /// <summary>Encodes text. Special tokens are never parsed: every character is content.</summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return [.. ids];
    }

    /// <summary>Encodes text, appending the ids to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<char> text, List<int> output)
    {
        if (text.IsEmpty) return;
        // Normalise: HF's normaliser replaces " " with "▁" (no dummy prefix, no whitespace folding).
        char[]? rented = null;
        Span<char> normalized = text.Length <= 512 ? stackalloc char[text.Length] : (rented = System.Buffers.ArrayPool<char>.Shared.Rent(text.Length)).AsSpan(0, text.Length);
        text.CopyTo(normalized);
        normalized.Replace(' ', '▁');

        int i = 0;
        while (i < normalized.Length)
        {
            int end = ChunkEnd(normalized, i);
            EncodeChunk(normalized[i..end], output);
            i = end;
        }
        if (rented != null) System.Buffers.ArrayPool<char>.Shared.Return(rented);
    }

    /// <summary>The end of the chunk starting at <paramref name="start"/>: <c>\n+</c>, <c>▁*[^▁\n]+</c> or <c>▁+</c>.</summary>
    static int ChunkEnd(ReadOnlySpan<char> s, int start)
    {
        int i = start;
        if (s[i] == '\n')
        {
            while (i < s.Length && s[i] == '\n') i++;
            return i;
        }
        while (i < s.Length && s[i] == '▁') i++;
        int rest = s[i..].IndexOfAny('▁', '\n');
        return rest < 0 ? s.Length : i + rest;
    }

    void EncodeChunk(ReadOnlySpan<char> chunk, List<int> output)
    {
        if (chunk.Length <= MaxCachedChunk && _cacheBySpan.TryGetValue(chunk, out int[]? cached))
        {
            output.AddRange(cached);
            return;
        }
        int before = output.Count;
        EncodeWithByteFallback(chunk, output);
        if (chunk.Length <= MaxCachedChunk)
        {
            if (_cache.Count >= MaxCacheEntries) _cache.Clear();
            _cacheBySpan.TryAdd(chunk, output.GetRange(before, output.Count - before).ToArray());
        }
    }

    void EncodeWithByteFallback(ReadOnlySpan<char> chunk, List<int> output)
    {
        var tokens = _bpe.EncodeToTokens(chunk, out _, considerPreTokenization: false, considerNormalization: false);
        Span<byte> utf8 = stackalloc byte[16];
        for (int t = 0; t < tokens.Count; t++)
        {
            if (tokens[t].Id != _unk) { output.Add(tokens[t].Id); continue; }
            // A run of unknown characters (a surrogate pair arrives as two): their UTF-8 bytes, one piece each.
            int start = tokens[t].Offset.Start.Value, end = tokens[t].Offset.End.Value;
            while (t + 1 < tokens.Count && tokens[t + 1].Id == _unk && tokens[t + 1].Offset.Start.Value == end)
                end = tokens[++t].Offset.End.Value;
            var span = chunk[start..end];
            int max = Encoding.UTF8.GetMaxByteCount(span.Length);
            Span<byte> bytes = max <= utf8.Length ? utf8 : new byte[max];
            int n = Encoding.UTF8.GetBytes(span, bytes);
            foreach (byte b in bytes[..n]) output.Add(_byteIds[b]);
        }
    }

    /// <summary>
    /// Decodes ids like HF's decoder with <c>skip_special_tokens=False</c>: special and markup pieces are kept
    /// as text, <c>▁</c> becomes a space, runs of byte pieces become UTF-8 (invalid bytes -> U+FFFD each).
    /// </summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length) throw new ArgumentOutOfRangeException(nameof(ids), $"id {id} is outside the vocabulary (0..{_pieces.Length - 1})");
            if (_byteOfId[id] >= 0) { bytes.Add((byte)_byteOfId[id]); continue; }
            FlushBytes(bytes, text);
            text.Append(_pieces[id].Replace('▁', ' '));
        }
        FlushBytes(bytes, text);
        return text.ToString();
    }

    static readonly UTF8Encoding StrictUtf8 = new(false, throwOnInvalidBytes: true);

    static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        // HF's ByteFallback decoder: a run that is valid UTF-8 becomes its text, otherwise one U+FFFD per byte.
        try { text.Append(StrictUtf8.GetString(span)); }
        catch (DecoderFallbackException) { text.Append('\uFFFD', bytes.Count); }
        bytes.Clear();
    }

    /// <summary>
    /// This tokenizer as a Hugging Face <c>tokenizer.json</c>: the source description with the tool markup
    /// (renamed <c>&lt;unusedN&gt;</c> pieces or appended ids) and the turn tokens declared as added special
    /// tokens, so HF loads it to the same ids (save it next to an adapter).
    /// </summary>
    public string ToTokenizerJson()
    {
        var root = JsonNode.Parse(_sourceJson)!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        var addedTokens = root["added_tokens"] as JsonArray ?? [];
        root["added_tokens"] = addedTokens;
        var declared = addedTokens.Select(t => t!["content"]!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);

        foreach (var (token, id) in _markupIds)
        {
            if (id < vocab.Count && !vocab.ContainsKey(token))
            {
                // Reserved mode: the <unusedN> piece at this id becomes the markup token.
                string old = vocab.First(p => p.Value!.GetValue<int>() == id).Key;
                vocab.Remove(old);
                vocab[token] = id;
            }
        }
        var toDeclare = new List<(string Piece, int Id)> { ("<start_of_turn>", StartOfTurn), ("<end_of_turn>", EndOfTurn) };
        toDeclare.AddRange(_markupIds.Select(p => (p.Key, p.Value)));
        foreach (var (piece, id) in toDeclare.OrderBy(p => p.Item2))
        {
            if (declared.Contains(piece)) continue;
            addedTokens.Add(new JsonObject
            {
                ["id"] = id, ["content"] = piece, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }
        return root.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Writes <see cref="ToTokenizerJson"/> to <c>directory/tokenizer.json</c> (atomically) and returns the path.</summary>
    public string Save(string directory)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        AtomicFile.WriteAllText(path, ToTokenizerJson());
        return path;
    }
}
