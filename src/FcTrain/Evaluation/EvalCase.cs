using FcTrain.Data;

namespace FcTrain.Evaluation;

/// <summary>
/// The categories of the Berkeley Function Calling Leaderboard (BFCL), from the gold turn and the offered functions:
/// simple (one call, one function offered), multiple (one call, several offered: the model must choose),
/// parallel (several calls, one function offered), parallel-multiple (several calls, several offered),
/// irrelevance (no call should be made). BFCL has no multi-turn answers; <see cref="Answer"/> holds the
/// text turns that follow tool results (no call expected either).
/// </summary>
public enum CaseCategory { Simple, Multiple, Parallel, ParallelMultiple, Irrelevance, Answer }

/// <summary>
/// One evaluation case: an assistant turn of a conversation. The prompt is the conversation before it,
/// the gold turn is what the dataset says the model should answer.
/// </summary>
public sealed record EvalCase(
    string Dataset,
    Conversation Conversation,
    int TurnIndex,                                  // index of the assistant message in Conversation.Messages
    IReadOnlyList<FunctionDefinition> Offered,
    CaseCategory Category,
    TemplateOptions Template)                       // the dataset's training template: prompts render with it
{
    /// <summary>The stable id of the case: conversation id and turn index, e.g. <c>weather-004#3</c>.</summary>
    public string Id => $"{Conversation.Id}#{TurnIndex}";

    public Message Gold => Conversation.Messages[TurnIndex];

    /// <summary>The messages before the gold turn.</summary>
    public IReadOnlyList<Message> Prompt => Conversation.Messages.Take(TurnIndex).ToList();

    /// <summary>The gold calls in the parser's form.</summary>
    public IReadOnlyList<ParsedToolCall> ExpectedCalls =>
        (Gold.ToolCalls ?? []).Select(c => new ParsedToolCall(c.Name, c.Arguments)).ToList();

    public bool ExpectsCall => Gold.ToolCalls is { Count: > 0 };

    /// <summary>The kind of the gold answer: tool calls, text, a clarifying question, or nothing.</summary>
    public AnswerKind ExpectedKind => ExpectsCall ? AnswerKind.ToolCalls : ToolCallParser.KindOfText(Gold.Text ?? "");

    /// <summary>Every assistant turn of the chosen split, ordered by dataset, conversation id and turn.</summary>
    public static IReadOnlyList<EvalCase> From(Dataset dataset, Split split)
    {
        var functions = dataset.Functions.ToDictionary(f => f.Name, StringComparer.Ordinal);
        var cases = new List<EvalCase>();
        foreach (var (conversation, s) in dataset.Conversations.OrderBy(c => c.Conversation.Id, StringComparer.Ordinal))
        {
            if (s != split) continue;
            // A conversation may name a function its dataset lacks only if validation failed; such
            // conversations never reach here (the loader keeps valid records only).
            var offered = conversation.Functions.Where(functions.ContainsKey).Select(n => functions[n]).ToList();
            for (int i = 0; i < conversation.Messages.Count; i++)
            {
                Message m = conversation.Messages[i];
                if (m.Role != Role.Assistant) continue;
                cases.Add(new EvalCase(dataset.Manifest.Name, conversation, i, offered, Categorize(conversation, i, offered.Count), dataset.Manifest.Template));
            }
        }
        return cases;
    }

    private static CaseCategory Categorize(Conversation conversation, int turn, int offered)
    {
        int calls = conversation.Messages[turn].ToolCalls?.Count ?? 0;
        return calls switch
        {
            0 => turn > 0 && conversation.Messages[turn - 1].Role == Role.Tool ? CaseCategory.Answer : CaseCategory.Irrelevance,
            1 => offered > 1 ? CaseCategory.Multiple : CaseCategory.Simple,
            _ => offered > 1 ? CaseCategory.ParallelMultiple : CaseCategory.Parallel,
        };
    }
}

public static class CaseCategoryNames
{
    /// <summary>The BFCL spelling used in tables, JSON and snapshots.</summary>
    public static string Name(this CaseCategory category) => category switch
    {
        CaseCategory.Simple => "simple",
        CaseCategory.Multiple => "multiple",
        CaseCategory.Parallel => "parallel",
        CaseCategory.ParallelMultiple => "parallel_multiple",
        CaseCategory.Irrelevance => "irrelevance",
        CaseCategory.Answer => "answer",
        _ => throw new ArgumentOutOfRangeException(nameof(category)),
    };

    public static string Name(this AnswerKind kind) => kind switch
    {
        AnswerKind.ToolCalls => "tool_calls",
        AnswerKind.Text => "text",
        AnswerKind.Clarification => "clarification",
        AnswerKind.Empty => "empty",
        AnswerKind.ParseFailure => "parse_failure",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
