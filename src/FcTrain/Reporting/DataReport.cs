using System.Globalization;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.Models;
using FcTrain.Packing;
using FcTrain.Tokenization;

namespace FcTrain.Reporting;

/// <summary>Conversations and tokens of one split of a dataset, as training sees them (before packing).</summary>
public sealed record SplitTotals(int Conversations, long Tokens, long TrainedTokens);

/// <summary>
/// One category (see <see cref="CaseCategory"/>: each assistant turn has one) in a dataset: the conversations of each
/// split with at least one turn of it (a conversation with turns of several categories counts in each), and its turns.
/// </summary>
public sealed record CategoryCount(CaseCategory Category, int TrainConversations, int EvalConversations, int Turns);

/// <summary>How often a function of the dataset is called (tool calls, parallel ones each), per split.</summary>
public sealed record FunctionCalls(string Name, int Train, int Eval)
{
    public int Total => Train + Eval;
}

public sealed record DatasetReport(
    string Name, string Version, string Directory,
    SplitTotals Train, SplitTotals Eval,
    IReadOnlyList<CategoryCount> Categories,
    IReadOnlyList<FunctionCalls> Functions,
    DatasetChanges? Changes);

/// <summary>
/// <c>fctrain report</c>: per dataset its version, conversations per split and per category, tokens and trained tokens
/// (rendered with the dataset's template and encoded with the model's tokenizer, exactly as <c>fctrain tokenize</c>
/// does), the calls of each function; with a base revision, what changed since and the version rules' diagnostics.
/// </summary>
public sealed record DataReport(
    IReadOnlyList<DatasetReport> Datasets,
    BaseRevision? Base,
    IReadOnlyList<DatasetChanges> RemovedDatasets,
    IReadOnlyList<Diagnostic> Diagnostics,
    string Tokenizer)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);

    /// <summary>
    /// The report of <paramref name="loaded"/> (its diagnostics included). Tokens come from the tokenizer of
    /// <paramref name="model"/> when that model is on this machine, else from the embedded Gemma tokenizer (the same
    /// vocabulary); nothing is downloaded.
    /// </summary>
    public static DataReport Create(string root, LoadResult loaded, string model, BaseRevision? baseRevision)
    {
        var diagnostics = loaded.Diagnostics.ToList();
        string? folder = ModelResolver.LocalTokenizerFolder(model);
        var encoded = new List<EncodedConversation>();
        string tokenizerSource = "the embedded Gemma tokenizer";
        foreach (var group in loaded.Datasets.GroupBy(d => d.Manifest.Template.ToolTokens))
        {
            var mode = ToolTokens.ParseMode(group.Key);
            var tokenizer = folder is null ? GemmaTokenizer.Embedded(mode) : GemmaTokenizer.ForModel(null, folder, mode);
            if (tokenizer.Source != "embedded") tokenizerSource = tokenizer.Source;
            encoded.AddRange(ShardBuilder.Encode(group.ToList(), tokenizer, trainOn: null, diagnostics));
        }

        var changes = baseRevision is null ? null : DatasetChanges.Compare(baseRevision.Datasets, loaded.Datasets, loaded.Diagnostics);
        if (baseRevision is not null) diagnostics.AddRange(VersionRules.Check(root, baseRevision.Name, loaded.Datasets, changes!));
        var datasets = loaded.Datasets.Select(d => Summarize(d, encoded.Where(e => ReferenceEquals(e.Dataset, d)).ToList(), changes?.First(c => c.Name == d.Manifest.Name))).ToList();
        var sorted = diagnostics.Distinct().OrderBy(d => d.File, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ThenBy(d => d.Code, StringComparer.Ordinal).ToList();
        return new DataReport(datasets, baseRevision, changes?.Where(c => c.Kind == ChangeKind.Removed).ToList() ?? [], sorted, tokenizerSource);
    }

    private static DatasetReport Summarize(Dataset dataset, IReadOnlyList<EncodedConversation> encoded, DatasetChanges? changes)
    {
        SplitTotals Totals(Split split)
        {
            var tokens = encoded.Where(e => e.Split == split && e.Tokens is not null).Select(e => e.Tokens!).ToList();
            return new SplitTotals(dataset.Conversations.Count(c => c.Split == split), tokens.Sum(t => (long)t.Length), tokens.Sum(t => (long)t.TrainedTokens));
        }

        var cases = new[] { Split.Train, Split.Eval }.SelectMany(s => EvalCase.From(dataset, s).Select(c => (Split: s, Case: c))).ToList();
        var categories = Enum.GetValues<CaseCategory>().Select(category =>
        {
            var of = cases.Where(c => c.Case.Category == category).ToList();
            int Conversations(Split s) => of.Where(c => c.Split == s).Select(c => c.Case.Conversation.Id).Distinct().Count();
            return new CategoryCount(category, Conversations(Split.Train), Conversations(Split.Eval), of.Count);
        }).ToList();

        var calls = dataset.Conversations
            .SelectMany(c => c.Conversation.Messages.SelectMany(m => m.ToolCalls ?? []).Select(call => (call.Name, c.Split)))
            .ToList();
        var functions = dataset.Functions.Select(f => f.Name).Union(calls.Select(c => c.Name)).Order(StringComparer.Ordinal)
            .Select(name => new FunctionCalls(name, calls.Count(c => c.Name == name && c.Split == Split.Train), calls.Count(c => c.Name == name && c.Split == Split.Eval)))
            .ToList();
        return new DatasetReport(dataset.Manifest.Name, dataset.Manifest.Version, dataset.Directory, Totals(Split.Train), Totals(Split.Eval), categories, functions, changes);
    }

    /// <summary>The report as headings, tables and lists (<see cref="ReportDocument.ToText"/>, <see cref="ReportDocument.ToMarkdown"/>).</summary>
    public ReportDocument ToDocument()
    {
        var doc = new ReportDocument();
        int errors = Diagnostics.Count(d => d.Severity == Severity.Error), warnings = Diagnostics.Count - errors;
        doc.AddHeading(1, "fctrain datasets report");
        doc.AddParagraph($"{Datasets.Count} dataset(s), {Datasets.Sum(d => d.Train.Conversations + d.Eval.Conversations)} conversation(s); "
            + $"tokens counted with {Tokenizer}"
            + (Base is null ? "" : $"; compared with {Base.Name} ({Base.Commit[..Math.Min(12, Base.Commit.Length)]})")
            + $"; {errors} error(s), {warnings} warning(s).");
        var header = new List<string> { "dataset", "version", "train", "eval", "tokens", "trained tokens" };
        if (Base is not null) header.Add("since base");
        doc.AddTable(header, Datasets.Select(d =>
        {
            var row = new List<string> { d.Name, d.Version, N(d.Train.Conversations), N(d.Eval.Conversations), N(d.Train.Tokens + d.Eval.Tokens), N(d.Train.TrainedTokens + d.Eval.TrainedTokens) };
            if (Base is not null) row.Add(ChangeCell(d.Changes!));
            return (IReadOnlyList<string>)row;
        }));
        if (RemovedDatasets.Count > 0)
            doc.AddParagraph($"Removed since {Base!.Name}: {string.Join(", ", RemovedDatasets.Select(r => $"{r.Name} {r.BaseVersion}"))}.");

        foreach (var d in Datasets)
        {
            doc.AddHeading(2, $"{d.Name} {d.Version} ({d.Directory})");
            doc.AddTable(["split", "conversations", "tokens", "trained tokens"],
            [
                ["train", N(d.Train.Conversations), N(d.Train.Tokens), N(d.Train.TrainedTokens)],
                ["eval", N(d.Eval.Conversations), N(d.Eval.Tokens), N(d.Eval.TrainedTokens)],
            ]);
            doc.AddTable(["category", "train conversations", "eval conversations", "assistant turns"],
                d.Categories.Select(c => (IReadOnlyList<string>)[c.Category.Name(), N(c.TrainConversations), N(c.EvalConversations), N(c.Turns)]));
            doc.AddTable(["function", "calls", "train", "eval"],
                d.Functions.Select(f => (IReadOnlyList<string>)[f.Name, N(f.Total), N(f.Train), N(f.Eval)]));
            if (d.Changes is { } c) AddChanges(doc, c);
        }

        if (Diagnostics.Count > 0)
        {
            doc.AddHeading(2, $"Problems: {errors} error(s), {warnings} warning(s)");
            doc.AddCode(Diagnostics.Select(x => x.ToString()));
        }
        return doc;
    }

    private void AddChanges(ReportDocument doc, DatasetChanges c)
    {
        doc.AddHeading(3, $"Changes since {Base!.Name}");
        if (c.Kind == ChangeKind.Added)
        {
            doc.AddParagraph($"A new dataset (not in {Base.Name}).");
            return;
        }
        if (!c.HasChanges)
        {
            doc.AddParagraph($"No change (version {c.Version}).");
            return;
        }
        var items = new List<string> { c.BaseVersion == c.Version ? $"version {c.Version} (not raised)" : $"version {c.BaseVersion} -> {c.Version}" };
        void Ids(string what, IReadOnlyList<string> ids)
        {
            if (ids.Count > 0) items.Add($"conversations {what} ({ids.Count}): {string.Join(", ", ids)}");
        }
        Ids("added", c.ConversationsAdded);
        Ids("removed", c.ConversationsRemoved);
        Ids("changed", c.ConversationsChanged);
        foreach (var f in c.Functions)
            items.Add($"function {f.Name} {DatasetChanges.Word(f.Kind)}" + (f.Breaking
                ? $", breaking {f.BrokenCalls.Count} call(s) of {Base.Name}: {string.Join("; ", f.BrokenCalls.Take(10))}{(f.BrokenCalls.Count > 10 ? $"; and {f.BrokenCalls.Count - 10} more" : "")}"
                : ""));
        if (c.ManifestFields.Count > 0) items.Add($"dataset.json: {string.Join(", ", c.ManifestFields)} changed");
        doc.AddBullets(items);
    }

    private static string ChangeCell(DatasetChanges c) => c.Kind == ChangeKind.Added ? "new dataset"
        : !c.HasChanges ? "no change"
        : $"+{c.ConversationsAdded.Count} -{c.ConversationsRemoved.Count} ~{c.ConversationsChanged.Count} conversations"
          + (c.Functions.Count > 0 ? $", {c.Functions.Count} function(s){(c.Breaking ? " (breaking)" : "")}" : "")
          + (c.BaseVersion == c.Version ? ", version not raised" : $", {c.BaseVersion} -> {c.Version}");

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
