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

/// <summary>
/// The Gemma tokenizer with ids equal to Hugging Face <c>tokenizers</c> on any text, built on
/// Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/>.
/// <para>
/// <see cref="Encode"/> never parses special tokens: text is text, so a message can never inject a control
/// token (<c>&lt;end_of_turn&gt;</c> in a message becomes the pieces of those characters). Structural tokens
/// (<c>&lt;bos&gt;</c>, <c>&lt;start_of_turn&gt;</c>, tool markup) are inserted by the template as ids from <see cref="TokenId"/>.
/// </para>
/// </summary>
public sealed class GemmaTokenizer
{
    public const int PadId = 0, EosId = 1, BosId = 2, UnkId = 3;

    private static readonly ConcurrentDictionary<ToolTokenMode, Lazy<GemmaTokenizer>> EmbeddedCache = new();

    private readonly BpeTokenizer _bpe;
    private readonly GemmaPreTokenizer _preTokenizer;
    private readonly string[] _pieces;                   // id -> piece as decoded (markup tags replace their <unusedN>)
    private readonly Dictionary<string, int> _ids;       // piece -> id, markup tags included
    private readonly int[] _byteIds = new int[256];      // byte b -> id of <0xBB>
    private readonly int[] _byteOfId;                    // id -> byte, or -1
    private readonly byte[] _json;                       // the tokenizer.json this was loaded from
    private readonly int[] _markupIds;
    private readonly string[] _literals;                 // non-special added tokens, longest first
    private readonly System.Buffers.SearchValues<char> _literalStarts;

    /// <summary>Where it was loaded from (a path, or "embedded").</summary>
    public string Source { get; }
    public ToolTokenMode ToolTokens { get; }
    /// <summary>Rows the embedding matrix needs: 256000 for Gemma, 256008 with added tool tokens.</summary>
    public int VocabSize => _pieces.Length;
    /// <summary>SHA-256 (hex) of what decides the ids (pieces by id, merges, literal added tokens, markup ids): changes exactly when the ids could.</summary>
    public string ContentHash { get; }
    /// <summary>Ids of <see cref="Tokenization.ToolTokens.Markup"/>, in that order.</summary>
    public IReadOnlyList<int> MarkupIds => _markupIds;

    private GemmaTokenizer(byte[] json, string source, ToolTokenMode requested)
    {
        _json = json;
        Source = source;
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (!root.TryGetProperty("model", out var model) || model.GetProperty("type").GetString() != "BPE")
            throw FcTrainException.Error("FCT0111", "this tokenizer.json has no BPE model: it is not a Gemma tokenizer. Point to the tokenizer.json of a Gemma model.", source);

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) vocab[entry.Name] = entry.Value.GetInt32();
        var merges = new List<string>();
        foreach (var merge in model.GetProperty("merges").EnumerateArray())
            merges.Add(merge.ValueKind == JsonValueKind.String ? merge.GetString()! : $"{merge[0].GetString()} {merge[1].GetString()}");

        _ids = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        var literals = new List<string>();
        if (root.TryGetProperty("added_tokens", out var added))
            foreach (var token in added.EnumerateArray())
            {
                string content = token.GetProperty("content").GetString()!;
                _ids[content] = token.GetProperty("id").GetInt32();
                if (token.TryGetProperty("special", out var special) && special.ValueKind == JsonValueKind.False && content.Length > 0) literals.Add(content);
            }
        // Non-special added tokens (google/gemma-2's tokenizer.json lists e.g. HTML tags so) are one token wherever
        // they occur in text, as in HF; special ones never are (see Encode).
        _literals = [.. literals.OrderByDescending(l => l.Length).ThenBy(l => l, StringComparer.Ordinal)];
        _literalStarts = System.Buffers.SearchValues.Create(string.Concat(_literals.Select(l => l[0]).Distinct()));
        foreach (string piece in new[] { "<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>" })
            if (!_ids.ContainsKey(piece))
                throw FcTrainException.Error("FCT0111", $"this tokenizer.json has no '{piece}' token: it is not a Gemma tokenizer. Point to the tokenizer.json of a Gemma model.", source);

        // Markup already present (a tokenizer.json fctrain wrote next to an adapter) keeps its ids; otherwise apply the mode.
        int baseSize = vocab.Count;
        _markupIds = new int[Tokenization.ToolTokens.Markup.Count];
        bool present = Tokenization.ToolTokens.Markup.All(_ids.ContainsKey);
        ToolTokens = present ? (_ids[Tokenization.ToolTokens.Markup[0]] >= baseSize ? ToolTokenMode.Added : ToolTokenMode.Reserved) : requested;
        for (int k = 0; k < _markupIds.Length; k++)
        {
            string tag = Tokenization.ToolTokens.Markup[k];
            if (present) _markupIds[k] = _ids[tag];
            else if (ToolTokens == ToolTokenMode.Added) _markupIds[k] = baseSize + k;
            else if (_ids.TryGetValue(Tokenization.ToolTokens.ReservedPiece(k), out int reserved)) _markupIds[k] = reserved;
            else throw FcTrainException.Error("FCT0111", $"this tokenizer.json has no '{Tokenization.ToolTokens.ReservedPiece(k)}' piece to hold '{tag}'. Use tool_tokens 'added'.", source);
            _ids[tag] = _markupIds[k];
        }

        _pieces = new string[Math.Max(_ids.Values.Max() + 1, baseSize)];
        foreach (var (piece, id) in _ids) _pieces[id] ??= piece;
        for (int k = 0; k < _markupIds.Length; k++) _pieces[_markupIds[k]] = Tokenization.ToolTokens.Markup[k];
        _byteOfId = new int[_pieces.Length];
        Array.Fill(_byteOfId, -1);
        for (int b = 0; b < 256; b++)
        {
            // Gemma has no <0x09>: a tab is the piece "\t". Fall back to the literal character's piece then.
            if (!vocab.TryGetValue($"<0x{b:X2}>", out int id) && !vocab.TryGetValue(((char)b).ToString(), out id))
                throw FcTrainException.Error("FCT0111", $"this tokenizer.json has no byte piece <0x{b:X2}>: Gemma's byte fallback needs all 256. Point to the tokenizer.json of a Gemma model.", source);
            _byteIds[b] = id;
            if (_pieces[id].StartsWith("<0x", StringComparison.Ordinal)) _byteOfId[id] = b;
        }

        // The recipe that reproduces HF (docs/tokenization.md): spaces escaped to ▁ with no dummy prefix and no whitespace
        // collapsing (Gemma's normalizer is a plain Replace), chunked by GemmaPreTokenizer, no special tokens
        // (text never becomes a control token), unknown characters fall back to bytes in Encode.
        _preTokenizer = new GemmaPreTokenizer(merges);
        _bpe = BpeTokenizer.Create(new BpeOptions(vocab)
        {
            Merges = merges,
            Normalizer = new SentencePieceNormalizer(removeExtraWhiteSpaces: false, addDummyPrefix: false, escapeWhiteSpaces: true, treatWhitespaceAsSuffix: false, specialTokens: null),
            PreTokenizer = _preTokenizer,
            UnknownToken = "<unk>",
        });

        // The identity is what decides the ids, not the file's bytes: the same vocabulary, merges, literal added tokens
        // and markup ids hash the same whether read from the embedded file, a model's or the copy saved with an adapter.
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        void Add(string text) => sha.AppendData(Encoding.UTF8.GetBytes(text + "\0"));
        foreach (string? piece in _pieces) Add(piece ?? "");
        Add("merges");
        foreach (string merge in merges) Add(merge);
        Add("literals");
        foreach (string literal in _literals) Add(literal);
        Add($"tool_tokens={Tokenization.ToolTokens.Name(ToolTokens)}:{string.Join(",", _markupIds)}");
        ContentHash = Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    /// <summary>The Gemma tokenizer shipped with fctrain (see Tokenization/Gemma/NOTICE), loaded once per mode.</summary>
    public static GemmaTokenizer Embedded(ToolTokenMode mode = ToolTokenMode.Reserved) =>
        EmbeddedCache.GetOrAdd(mode, m => new Lazy<GemmaTokenizer>(() =>
        {
            using var resource = typeof(GemmaTokenizer).Assembly.GetManifestResourceStream("FcTrain.Tokenization.Gemma.tokenizer.json.gz")
                ?? throw new InvalidOperationException("the embedded Gemma tokenizer is missing from FcTrain.dll");
            using var gzip = new GZipStream(resource, CompressionMode.Decompress);
            using var bytes = new MemoryStream();
            gzip.CopyTo(bytes);
            return new GemmaTokenizer(bytes.ToArray(), "embedded", m);
        })).Value;

    /// <summary>Loads <c>tokenizer.json</c> from a model (or adapter) folder.</summary>
    public static GemmaTokenizer FromFolder(string directory, ToolTokenMode mode = ToolTokenMode.Reserved)
    {
        string path = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0112", $"no tokenizer.json in '{directory}': a Hugging Face model folder has one. Download the model with its tokenizer files, or use the embedded tokenizer.", directory);
        try { return new GemmaTokenizer(File.ReadAllBytes(path), path, mode); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw FcTrainException.Error("FCT0111", $"tokenizer.json is not a readable Hugging Face tokenizer ({e.Message}).", path);
        }
    }

    /// <summary>The tokenizer that goes with a model: the one saved next to the adapter (when training changed the
    /// vocabulary), else the model folder's, else the embedded one.</summary>
    public static GemmaTokenizer ForModel(string? adapterFolder, string modelFolder, ToolTokenMode mode)
    {
        string? folder = new[] { adapterFolder, modelFolder }.FirstOrDefault(f => f is not null && File.Exists(Path.Combine(f, "tokenizer.json")));
        return folder is null ? Embedded(mode) : FromFolder(folder, mode);
    }

    /// <summary>
    /// The ids of <paramref name="text"/> (no <c>&lt;bos&gt;</c>). Special tokens are never parsed from text;
    /// non-special added tokens of the tokenizer.json (none in the embedded one) are, as HF does.
    /// </summary>
    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        Encode(text, ids);
        return [.. ids];
    }

    /// <summary>
    /// Appends the ids of <paramref name="text"/> to <paramref name="ids"/>; with <paramref name="tokenSpans"/>,
    /// also the character range of the chunk each token comes from (tokens never cross chunks), which is how
    /// the template maps trained characters onto trained tokens.
    /// </summary>
    public void Encode(string text, List<int> ids, List<(int Start, int End)>? tokenSpans = null)
    {
        int start = 0;
        if (_literals.Length > 0)
            for (int at = text.AsSpan().IndexOfAny(_literalStarts); at >= 0 && at < text.Length; )
            {
                // Leftmost-longest, as HF matches added tokens.
                string? literal = _literals.FirstOrDefault(l => text.AsSpan(at).StartsWith(l, StringComparison.Ordinal));
                if (literal is null)
                {
                    int next = text.AsSpan(at + 1).IndexOfAny(_literalStarts);
                    at = next < 0 ? -1 : at + 1 + next;
                    continue;
                }
                EncodeRange(text, start, at, ids, tokenSpans);
                ids.Add(_ids[literal]);
                tokenSpans?.Add((at, at + literal.Length));
                start = at += literal.Length;
                int following = text.AsSpan(at).IndexOfAny(_literalStarts);
                at = following < 0 ? -1 : at + following;
            }
        EncodeRange(text, start, text.Length, ids, tokenSpans);
    }

    private void EncodeRange(string text, int start, int end, List<int> ids, List<(int Start, int End)>? tokenSpans)
    {
        var cache = _chunkCache.GetAlternateLookup<ReadOnlySpan<char>>();
        var range = text.AsSpan(0, end);
        for (int cut; start < end; start = cut)
        {
            cut = _preTokenizer.NextCut(range, start);
            var chunk = range[start..cut];
            if (!cache.TryGetValue(chunk, out int[]? chunkIds))
            {
                string key = chunk.ToString();
                chunkIds = EncodeChunk(key);
                if (Interlocked.Increment(ref _cachedChunks) >= MaxCachedChunks) { _chunkCache.Clear(); _cachedChunks = 0; }
                _chunkCache.TryAdd(key, chunkIds);
            }
            ids.AddRange(chunkIds);
            if (tokenSpans is not null)
                for (int k = 0; k < chunkIds.Length; k++) tokenSpans.Add((start, cut));
        }
    }

    // Chunks repeat (words, indentation, JSON keys): BPE runs once per distinct chunk.
    private const int MaxCachedChunks = 1 << 19;
    private readonly ConcurrentDictionary<string, int[]> _chunkCache = new(StringComparer.Ordinal);
    private int _cachedChunks;

    /// <summary>Forgets the cached chunks (benchmarks measure the cold path with it).</summary>
    internal void ClearChunkCache() => _chunkCache.Clear();

    private int[] EncodeChunk(string chunk)
    {
        // The chunk is already one pre-token; escaping its spaces here skips the normalizer's and the
        // pre-tokenizer's allocations (same result: the normalizer only replaces ' ' by '▁').
        var encoded = _bpe.EncodeToIds(chunk.Replace(' ', GemmaPreTokenizer.Space), considerPreTokenization: false, considerNormalization: false);
        if (!encoded.Contains(UnkId)) return [.. encoded];
        // Byte fallback: a character outside the vocabulary becomes the pieces of its UTF-8 bytes, as in HF.
        // Runs of <unk> are joined first, so a surrogate pair split in two is encoded as one code point.
        var tokens = _bpe.EncodeToTokens(chunk, out _);
        var ids = new List<int>(tokens.Count + 8);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Id != UnkId) { ids.Add(tokens[i].Id); continue; }
            int start = tokens[i].Offset.Start.Value, end = tokens[i].Offset.End.Value;
            while (i + 1 < tokens.Count && tokens[i + 1].Id == UnkId && tokens[i + 1].Offset.Start.Value == end)
                end = tokens[++i].Offset.End.Value;
            foreach (var rune in chunk.AsSpan(start, end - start).EnumerateRunes())
            {
                int n = rune.EncodeToUtf8(utf8);
                for (int b = 0; b < n; b++) ids.Add(_byteIds[utf8[b]]);
            }
        }
        return [.. ids];
    }

    /// <summary>The text of <paramref name="ids"/> as HF decodes it (special tokens and markup kept as text).</summary>
    public string Decode(IEnumerable<int> ids)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_pieces.Length || _pieces[id] is null)
                throw FcTrainException.Error("FCT0113", $"token id {id} is outside the vocabulary (0..{_pieces.Length - 1}).");
            if (_byteOfId[id] >= 0) { bytes.Add((byte)_byteOfId[id]); continue; }
            FlushBytes(bytes, text);
            text.Append(_pieces[id].Replace(GemmaPreTokenizer.Space, ' '));
        }
        FlushBytes(bytes, text);
        return text.ToString();
    }

    // HF's ByteFallback decoder: a run of byte pieces is UTF-8 when valid, else one U+FFFD per byte.
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0) return;
        try { text.Append(StrictUtf8.GetString(bytes.ToArray())); }
        catch (DecoderFallbackException) { text.Append('\uFFFD', bytes.Count); }
        bytes.Clear();
    }

    /// <summary>The id of one piece or special token (<c>&lt;bos&gt;</c>, <c>&lt;end_of_turn&gt;</c>, <c>&lt;tool_call&gt;</c>, a vocabulary piece).</summary>
    public int TokenId(string piece) =>
        _ids.TryGetValue(piece, out int id) ? id
        : throw FcTrainException.Error("FCT0113", $"'{piece}' is not a token of this tokenizer.", Source);

    /// <summary>The tokenizer.json bytes this tokenizer was loaded from (unchanged).</summary>
    internal ReadOnlySpan<byte> OriginalJson => _json;

    /// <summary>The piece of an id as <see cref="Decode"/> writes it before byte fusion (markup tags for their ids).</summary>
    public string Piece(int id) => _pieces[id];

    /// <summary>
    /// tokenizer.json (<see cref="WriteHuggingFaceJson"/>) and tokenizer_config.json (<see cref="TokenizerConfigFile"/>,
    /// from the model's own when it was loaded from a folder that has one) into <paramref name="directory"/>, as
    /// save_pretrained writes them next to an adapter or a merged model.
    /// </summary>
    public void WriteHuggingFaceFiles(string directory)
    {
        string json = Path.Combine(directory, "tokenizer.json");
        WriteHuggingFaceJson(json);
        string? baseConfig = Source == "embedded" ? null : Path.Combine(Path.GetDirectoryName(Source)!, TokenizerConfigFile.FileName);
        TokenizerConfigFile.Write(Path.Combine(directory, TokenizerConfigFile.FileName), json, baseConfig);
    }

    /// <summary>
    /// A Hugging Face tokenizer.json describing this tokenizer, tool markup included, so transformers reloads
    /// the same ids next to an adapter. Reserved mode renames the <c>&lt;unusedN&gt;</c> vocabulary pieces to
    /// the tags; added mode appends them after the vocabulary. Either way they are listed in added_tokens, with
    /// <c>&lt;start_of_turn&gt;</c> and <c>&lt;end_of_turn&gt;</c>.
    /// </summary>
    public void WriteHuggingFaceJson(string path)
    {
        var root = JsonNode.Parse(_json)!.AsObject();
        var vocab = root["model"]!["vocab"]!.AsObject();
        var added = root["added_tokens"] as JsonArray ?? [];
        root["added_tokens"] = added;
        var listed = added.Select(t => (string)t!["content"]!).ToHashSet(StringComparer.Ordinal);
        void List(string content, int id)
        {
            if (!listed.Add(content)) return;
            added.Add(new JsonObject
            {
                ["id"] = id, ["content"] = content, ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }
        // The turn markers are vocabulary pieces; listing them makes HF read them in rendered text as one token
        // each, as google/gemma-2-2b-it's own tokenizer.json does.
        foreach (string marker in new[] { "<start_of_turn>", "<end_of_turn>" }) List(marker, _ids[marker]);
        for (int k = 0; k < _markupIds.Length; k++)
        {
            string tag = Tokenization.ToolTokens.Markup[k];
            if (ToolTokens == ToolTokenMode.Reserved && !vocab.ContainsKey(tag) && vocab.Remove(Tokenization.ToolTokens.ReservedPiece(k)))
                vocab[tag] = _markupIds[k];
            List(tag, _markupIds[k]);
        }
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            root.WriteTo(writer);
        });
    }
}
