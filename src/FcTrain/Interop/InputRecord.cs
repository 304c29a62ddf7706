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

    /// <summary>The record's position as other messages cite it: <c>file(line,col)</c> or <c>file(row N)</c>.</summary>
    public string Position => Cite(File, Line, Column, Row);

    public static string Cite(string file, int line, int column, long row) => line > 0 ? $"{file}({line},{column})" : $"{file}(row {row})";
}
