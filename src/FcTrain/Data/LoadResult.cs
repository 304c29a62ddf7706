using FcTrain.Diagnostics;

namespace FcTrain.Data;

/// <summary>
/// What <see cref="DatasetLoader.Load"/> found: the datasets (only the records that passed validation)
/// and every problem of every file, sorted by file, line and column.
/// </summary>
public sealed record LoadResult(IReadOnlyList<Dataset> Datasets, IReadOnlyList<Diagnostic> Diagnostics)
{
    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);

    /// <summary>The number of conversations read (all datasets, both splits).</summary>
    public int ConversationCount => Datasets.Sum(d => d.Conversations.Count);

    public const string NoConversation = "FCT0125";

    /// <summary>
    /// The conversations of the file at <paramref name="path"/> (with <paramref name="id"/>: that one), with their
    /// datasets; none is error FCT0125 naming the file. Paths of records are relative to <paramref name="root"/>.
    /// </summary>
    public IReadOnlyList<(Dataset Dataset, Conversation Conversation)> ConversationsIn(string root, string path, string? id)
    {
        string relative = Path.GetRelativePath(root, Path.GetFullPath(path, root)).Replace('\\', '/');
        var found = Datasets.SelectMany(d => d.Conversations.Select(c => (Dataset: d, c.Conversation)))
            .Where(x => x.Conversation.Source.File == relative && (id is null || x.Conversation.Id == id))
            .ToList();
        if (found.Count == 0)
            throw FcTrainException.Error(NoConversation, "no conversation here" + (id is null ? "" : $" with id '{id}'") +
                ". Name a conversation file (*.json or *.jsonl) that its dataset's 'conversations' globs include.", relative);
        return found;
    }
}

/// <summary>Limits of the loader; the defaults suit hand-written and generated datasets alike.</summary>
public sealed record LoadOptions
{
    /// <summary>Largest data file read (a *.jsonl file may hold many conversations).</summary>
    public long MaxFileBytes { get; init; } = 256L << 20;

    /// <summary>Largest single record: a function, a conversation file, or one JSONL line.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;
}
