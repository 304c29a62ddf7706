using System.Text;
using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Evaluation;

/// <summary>The scored cases of one evaluation run and their metrics, per BFCL category and in total.</summary>
public sealed record EvalReport(string Model, string? Adapter, Split Split, IReadOnlyList<CaseResult> Results)
{
    public IReadOnlyList<Metrics> ByCategory =>
        Enum.GetValues<CaseCategory>()
            .Select(c => (c, Results.Where(r => r.Case.Category == c).ToList()))
            .Where(g => g.Item2.Count > 0)
            .Select(g => Metrics.Of(g.c.Name(), g.Item2))
            .ToList();

    public Metrics Total => Metrics.Of("total", Results);

    /// <summary>The case whose greedy choices were closest to a tie (null for recorded outputs).</summary>
    public CaseResult? SmallestMargin => Results.Where(r => r.MinMargin is not null).MinBy(r => r.MinMargin);

    /// <summary>A fixed-width table: one row per category present, then the total.</summary>
    public string FormatTable()
    {
        string[] header = ["category", "cases", "accuracy", "name acc", "args exact", "schema ok", "no-call acc", "parse fail"];
        var rows = ByCategory.Append(Total).Select(m => new[]
        {
            m.Category, m.Cases.ToString(), m.Accuracy.ToString(), m.NameAccuracy.ToString(), m.ArgumentsExact.ToString(),
            m.SchemaValid.ToString(), m.NoCallAccuracy.ToString(), m.ParseFailures.ToString(),
        }).Prepend(header).ToList();
        int[] widths = Enumerable.Range(0, header.Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        for (int r = 0; r < rows.Count; r++)
        {
            if (r == rows.Count - 1) sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
            sb.AppendLine(string.Join("  ", rows[r].Select((cell, i) => i == 0 ? cell.PadRight(widths[i]) : cell.PadLeft(widths[i]))).TrimEnd());
        }
        return sb.ToString();
    }

    /// <summary>The report as JSON: metrics per category and in total, and per case when <paramref name="details"/>.</summary>
    public JsonObject ToJson(bool details)
    {
        var json = new JsonObject
        {
            ["model"] = Model,
            ["adapter"] = Adapter,
            ["split"] = Split == Split.Train ? "train" : "eval",
            ["total"] = MetricsJson(Total),
            ["categories"] = new JsonArray(ByCategory.Select(m => (JsonNode)MetricsJson(m)).ToArray()),
        };
        if (SmallestMargin is { } smallest) json["min_margin"] = new JsonObject { ["case"] = smallest.Case.Id, ["margin"] = Math.Round(smallest.MinMargin!.Value, 4) };
        if (details) json["cases"] = new JsonArray(Results.Select(r => (JsonNode)CaseJson(r, includeOutput: true)).ToArray());
        return json;
    }

    /// <summary>
    /// One case as pinned in snapshots (and in <c>--details</c>): id, category, what the gold turn expects (its
    /// calls, or the kind of answer), the kind of answer given, the parsed calls with sorted argument keys and
    /// each call's check, whether it matches the gold turn. Expected and actual side by side make a snapshot
    /// diff readable, and editing a gold call in the data changes its case even when the model's output does
    /// not. The raw output and the thinking text are volatile and only written when asked.
    /// </summary>
    public static JsonObject CaseJson(CaseResult r, bool includeOutput)
    {
        var json = new JsonObject
        {
            ["id"] = r.Case.Id,
            ["category"] = r.Case.Category.Name(),
            ["expected"] = ExpectedJson(r.Case),
            ["answer"] = r.Parsed.Kind.Name(),
        };
        if (r.Parsed.Failure is { } failure) json["parse_failure"] = failure.Reason;
        if (r.Parsed.Calls.Count > 0)
            json["calls"] = new JsonArray(r.Parsed.Calls.Zip(r.Checks, (call, check) =>
            {
                var node = Call(call);
                node["check"] = check.Valid ? "valid" : new JsonArray(check.Errors.Select(e => (JsonNode)JsonValue.Create(e)!).ToArray());
                return (JsonNode)node;
            }).ToArray());
        json["matches_gold"] = r.Correct;
        if (includeOutput)
        {
            json["output"] = r.Output;
            if (r.MinMargin is { } margin) json["min_margin"] = Math.Round(margin, 4);
        }
        return json;
    }

    /// <summary>What the gold turn of <paramref name="c"/> expects: its calls (sorted argument keys), or the kind of answer.</summary>
    public static JsonNode ExpectedJson(EvalCase c) => c.ExpectsCall
        ? new JsonArray(c.ExpectedCalls.Select(call => (JsonNode)Call(call)).ToArray())
        : JsonValue.Create(c.ExpectedKind.Name());

    private static JsonObject Call(ParsedToolCall call) => new() { ["name"] = call.Name, ["arguments"] = CanonicalJson.Normalize(call.Arguments) };

    private static JsonObject MetricsJson(Metrics m)
    {
        static JsonNode RateJson(Rate rate) => new JsonObject { ["count"] = rate.Count, ["total"] = rate.Total, ["rate"] = rate.Value };
        return new JsonObject
        {
            ["category"] = m.Category,
            ["cases"] = m.Cases,
            ["accuracy"] = RateJson(m.Accuracy),
            ["name_accuracy"] = RateJson(m.NameAccuracy),
            ["arguments_exact"] = RateJson(m.ArgumentsExact),
            ["schema_valid"] = RateJson(m.SchemaValid),
            ["no_call_accuracy"] = RateJson(m.NoCallAccuracy),
            ["parse_failures"] = RateJson(m.ParseFailures),
        };
    }
}
