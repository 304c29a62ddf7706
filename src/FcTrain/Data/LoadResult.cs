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
}

/// <summary>Limits of the loader; the defaults suit hand-written and generated datasets alike.</summary>
public sealed record LoadOptions
{
    /// <summary>Largest data file read (a *.jsonl file may hold many conversations).</summary>
    public long MaxFileBytes { get; init; } = 256L << 20;

    /// <summary>Largest single record: a function, a conversation file, or one JSONL line.</summary>
    public int MaxRecordBytes { get; init; } = 1 << 20;
}
