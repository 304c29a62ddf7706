using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Packing;

/// <summary>What <c>fctrain tokenize</c> does: the shards folder and row length come from the settings
/// (<c>shards</c>, <c>train.maxSeqLength</c>), the rest from its flags.</summary>
public sealed record TokenizeSettings(
    string OutputDirectory,               // the setting 'shards'
    int MaxSeqLength,                     // the setting 'train.maxSeqLength'
    bool Truncate = false,                // --truncate; otherwise an overlong conversation is error FCT0130
    string? TrainOn = null,               // --train-on assistant|all; null: each dataset's template.train_on
    string? TokenizerFolder = null);      // the model folder whose tokenizer encodes (the embedded one when it has no tokenizer.json); null: the embedded

/// <summary>Statistics of one split.</summary>
public sealed record SplitStats(int Conversations, int Rows, long Tokens, long TrainedTokens, int MaxSeqLength, string? LongestId, int LongestTokens, int Truncated)
{
    public double TrainedShare => Tokens == 0 ? 0 : (double)TrainedTokens / Tokens;
    /// <summary>Real tokens over the row capacity (rows × max_seq_length): 1 means no padding at all.</summary>
    public double PackingEfficiency => Rows == 0 ? 0 : (double)Tokens / ((long)Rows * MaxSeqLength);
}

public sealed record TokenizeResult(string ManifestPath, SplitStats Train, SplitStats Eval);

/// <summary>A conversation of a dataset as training sees it: its split and its ids and labels (null when it cannot be rendered).</summary>
public sealed record EncodedConversation(Dataset Dataset, Conversation Conversation, Split Split, TokenizedConversation? Tokens);

/// <summary>
/// Datasets → rendered conversations → ids and labels → packed rows → <c>train.safetensors</c>,
/// <c>eval.safetensors</c> and <c>manifest.json</c> (written last: its presence means the shards are complete).
/// Deterministic: the same datasets, options and tokenizer give byte-identical files.
/// </summary>
public static class ShardBuilder
{
    public const string ManifestFile = "manifest.json", ShardFormat = "fctrain-shards-v1";

    /// <summary>Builds the shards; user problems go to <paramref name="diagnostics"/> and then nothing is written (returns null).</summary>
    public static TokenizeResult? Build(string repoRoot, IReadOnlyList<Dataset> datasets, TokenizeSettings settings, List<Diagnostic> diagnostics)
    {
        string mode = datasets.Select(d => d.Manifest.Template.ToolTokens).Distinct().FirstOrDefault() ?? "reserved";
        foreach (var d in datasets.Where(d => d.Manifest.Template.ToolTokens != mode))
            diagnostics.Add(new Diagnostic(d.Manifest.Source.File, d.Manifest.Source.Line, d.Manifest.Source.Column, Severity.Error, "FCT0131",
                $"dataset '{d.Manifest.Name}' uses tool_tokens '{d.Manifest.Template.ToolTokens}' but '{datasets[0].Manifest.Name}' uses '{mode}': one model has one tokenizer. Use the same template.tool_tokens in every dataset trained together."));
        if (diagnostics.Any(d => d.Severity == Severity.Error)) return null;

        var toolTokens = ToolTokens.ParseMode(mode);
        var tokenizer = settings.TokenizerFolder is null ? GemmaTokenizer.Embedded(toolTokens) : GemmaTokenizer.ForModel(null, settings.TokenizerFolder, toolTokens);

        var encoded = Encode(datasets, tokenizer, settings.TrainOn, diagnostics);

        var splits = new Dictionary<Split, (List<PackedRow> Rows, SplitStats Stats)>();
        foreach (var split in new[] { Split.Train, Split.Eval })
        {
            var conversations = encoded.Where(e => e.Split == split && e.Tokens is not null).Select(e => e.Tokens!).ToList();
            var rows = Packer.Pack(conversations, settings.MaxSeqLength, settings.Truncate, diagnostics);
            var longest = conversations.OrderByDescending(c => c.Length).FirstOrDefault();
            splits[split] = (rows, new SplitStats(conversations.Count, rows.Count, rows.Sum(r => (long)r.InputIds.Length),
                rows.Sum(r => (long)r.Labels.Count(l => l != TokenizedConversation.IgnoreIndex)), settings.MaxSeqLength,
                longest?.Id, longest?.Length ?? 0, settings.Truncate ? conversations.Count(c => c.Length > settings.MaxSeqLength) : 0));
        }
        if (diagnostics.Any(d => d.Severity == Severity.Error)) return null;

        // The shards are written into a staging folder beside the output and moved in only once all are complete:
        // a write that fails (a full disk) leaves the previous shards and manifest as they were.
        string outDir = Path.GetFullPath(settings.OutputDirectory, repoRoot);
        string staging = $"{outDir}.partial-{Environment.ProcessId}.{Guid.NewGuid():N}";
        AtomicDirectory.CleanUp(Path.GetDirectoryName(outDir)!);
        try
        {
            return Write(repoRoot, datasets, settings, tokenizer, splits, staging, outDir);
        }
        catch (FcTrainException e) when (e.Diagnostic.File.StartsWith(staging, StringComparison.Ordinal))
        {
            // Name the shard the user knows, not its staged copy.
            throw new FcTrainException(e.Diagnostic with { File = outDir + e.Diagnostic.File[staging.Length..] });
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }

    /// <summary>
    /// Every conversation of <paramref name="datasets"/> rendered with its dataset's template (<paramref name="trainOn"/>
    /// overriding <c>train_on</c>) and encoded with <paramref name="tokenizer"/>, in dataset and file order, as training
    /// sees it before packing. A conversation the template cannot render has no tokens; its error goes to <paramref name="diagnostics"/>.
    /// </summary>
    public static IReadOnlyList<EncodedConversation> Encode(IReadOnlyList<Dataset> datasets, GemmaTokenizer tokenizer, string? trainOn, List<Diagnostic> diagnostics)
    {
        var work = datasets.SelectMany(d => d.Conversations.Select(c => (Dataset: d, c.Conversation, c.Split))).ToList();
        var encoded = work.AsParallel().AsOrdered().Select(w =>
        {
            var options = trainOn is null ? w.Dataset.Manifest.Template : w.Dataset.Manifest.Template with { TrainOn = trainOn };
            try
            {
                var segments = ChatTemplate.Render(w.Conversation, w.Dataset.Functions, options);
                return (Encoded: new EncodedConversation(w.Dataset, w.Conversation, w.Split, TokenizedConversation.From(w.Conversation.Id, segments, tokenizer, w.Conversation.Source)), Error: (Diagnostic?)null);
            }
            catch (FcTrainException e) { return (Encoded: new EncodedConversation(w.Dataset, w.Conversation, w.Split, null), Error: e.Diagnostic); }
        }).ToList();
        diagnostics.AddRange(encoded.Where(e => e.Error is not null).Select(e => e.Error!).Distinct());
        return encoded.Select(e => e.Encoded).ToList();
    }

    static TokenizeResult Write(string repoRoot, IReadOnlyList<Dataset> datasets, TokenizeSettings settings, GemmaTokenizer tokenizer,
        Dictionary<Split, (List<PackedRow> Rows, SplitStats Stats)> splits, string staging, string outDir)
    {
        var splitManifest = new JsonObject();
        foreach (var (split, (rows, stats)) in splits)
        {
            string name = split == Split.Train ? "train" : "eval";
            string file = Path.Combine(staging, $"{name}.safetensors");
            ShardFile.Write(file, rows);
            splitManifest[name] = new JsonObject
            {
                ["file"] = $"{name}.safetensors",
                ["sha256"] = Sha256(File.ReadAllBytes(file)),
                ["conversations"] = stats.Conversations,
                ["rows"] = stats.Rows,
                ["tokens"] = stats.Tokens,
                ["trained_tokens"] = stats.TrainedTokens,
                ["packing_efficiency"] = Math.Round(stats.PackingEfficiency, 6),
                ["longest_conversation"] = new JsonObject { ["id"] = stats.LongestId, ["tokens"] = stats.LongestTokens },
                ["truncated"] = stats.Truncated,
            };
        }

        var manifest = new JsonObject
        {
            ["format"] = ShardFormat,
            ["tokenizer"] = new JsonObject
            {
                ["source"] = tokenizer.Source == "embedded" ? "embedded" : Path.GetRelativePath(repoRoot, tokenizer.Source).Replace('\\', '/'),
                ["sha256"] = tokenizer.ContentHash,
                ["tool_tokens"] = ToolTokens.Name(tokenizer.ToolTokens),
                ["vocab_size"] = tokenizer.VocabSize,
                ["markup_ids"] = new JsonObject(ToolTokens.Markup.Select((tag, k) => KeyValuePair.Create(tag, (JsonNode?)tokenizer.MarkupIds[k]))),
            },
            ["max_seq_length"] = settings.MaxSeqLength,
            ["truncate"] = settings.Truncate,
            ["train_on"] = settings.TrainOn,
            ["datasets"] = new JsonArray(datasets.Select(d => (JsonNode)new JsonObject
            {
                ["name"] = d.Manifest.Name,
                ["version"] = d.Manifest.Version,
                ["directory"] = Path.GetRelativePath(repoRoot, Path.GetFullPath(d.Directory, repoRoot)).Replace('\\', '/'),
                ["content_sha256"] = DatasetHash(repoRoot, Path.GetFullPath(d.Directory, repoRoot)),
                ["template"] = new JsonObject
                {
                    ["name"] = d.Manifest.Template.Name,
                    ["serialization"] = d.Manifest.Template.Serialization,
                    ["tool_tokens"] = d.Manifest.Template.ToolTokens,
                    ["train_on"] = settings.TrainOn ?? d.Manifest.Template.TrainOn,
                },
                ["conversations"] = new JsonObject
                {
                    ["train"] = d.Conversations.Count(c => c.Split == Split.Train),
                    ["eval"] = d.Conversations.Count(c => c.Split == Split.Eval),
                },
            }).ToArray()),
            ["splits"] = splitManifest,
        };
        string manifestText = manifest.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
        AtomicFile.WriteAllText(Path.Combine(staging, ManifestFile), manifestText);

        // All written: rename into place (renames need no space), the manifest last and only when it changed
        // (its timestamp drives incremental builds).
        string manifestPath = Path.Combine(outDir, ManifestFile);
        try
        {
            Directory.CreateDirectory(outDir);
            foreach (var name in new[] { "train", "eval" })
                File.Move(Path.Combine(staging, $"{name}.safetensors"), Path.Combine(outDir, $"{name}.safetensors"), overwrite: true);
            if (!File.Exists(manifestPath) || File.ReadAllText(manifestPath) != manifestText)
                File.Move(Path.Combine(staging, ManifestFile), manifestPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw AtomicFile.WriteFailed(e, outDir);
        }
        return new TokenizeResult(manifestPath, splits[Split.Train].Stats, splits[Split.Eval].Stats);
    }

    /// <summary>SHA-256 over every data file of a dataset folder (snapshots excluded: accepting one must not
    /// retrain): relative path, NUL, bytes, in ordinal path order.</summary>
    public static string DatasetHash(string repoRoot, string directory)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        // The same files validation reads: links out of the repository (reported there) are not followed.
        foreach (string file in RepositoryFiles.Enumerate(Path.GetFullPath(repoRoot), directory, new List<Diagnostic>())
                     .Select(f => Path.GetRelativePath(directory, f).Replace('\\', '/'))
                     .Where(f => !f.EndsWith(".verified.json", StringComparison.Ordinal) && !f.EndsWith(".received.json", StringComparison.Ordinal))
                     .Order(StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file + "\0"));
            sha.AppendData(File.ReadAllBytes(Path.Combine(directory, file)));
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    internal static string Sha256(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
