using System.Text.Json.Nodes;

namespace FcTrain.Interop;

/// <summary>
/// One record of an input file: its JSON object and where it came from — the 1-based line of a *.jsonl or
/// *.json file, or the 1-based row of a *.parquet file (<see cref="Line"/> 0).
/// </summary>
public sealed record InputRecord(JsonObject Json, string File, int Line, int Column, long Row)
{
    /// <summary>How a message names the record: "line 12" or "row 12".</summary>
    public string Where => Line > 0 ? $"line {Line}" : $"row {Row}";
}
