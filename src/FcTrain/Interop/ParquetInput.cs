using System.Collections;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using Parquet;
using Parquet.Serialization;

namespace FcTrain.Interop;

/// <summary>
/// Reads a *.parquet file (Parquet.Net) one row group at a time, each row as a JSON object: nested structs become
/// objects, lists arrays, strings, numbers and booleans values. A file whose columns are not the format's is
/// reported once, naming the columns expected and those found.
/// </summary>
public static class ParquetInput
{
    public static IEnumerable<InputRecord> Read(string fullPath, string shown, IReadOnlyList<string>? expectedColumns, ICollection<Diagnostic> diagnostics)
    {
        using var stream = File.OpenRead(fullPath);
        int groups = 0;
        string[] columns = [];
        string? unreadable = null;
        try
        {
            var reader = ParquetReader.CreateAsync(stream, leaveStreamOpen: true).GetAwaiter().GetResult();
            using var disposing = reader as IDisposable;
            groups = reader.RowGroupCount;
            columns = reader.Schema.Fields.Select(f => f.Name).ToArray();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            unreadable = e.Message.TrimEnd('.');
        }
        if (unreadable is not null)
        {
            diagnostics.Add(new Diagnostic(shown, 0, 0, Severity.Error, ImportCodes.MalformedInput, $"not a readable Parquet file: {unreadable}."));
            yield break;
        }
        if (expectedColumns is not null && !expectedColumns.Any(e => e.Split('|').All(c => columns.Contains(c, StringComparer.Ordinal))))
        {
            diagnostics.Add(new Diagnostic(shown, 0, 0, Severity.Error, ImportCodes.UnexpectedColumns,
                $"unexpected columns: expected {string.Join(" or ", expectedColumns.Select(e => string.Join(", ", e.Split('|'))))}, found {string.Join(", ", columns)}. Choose the right --format, or rename the columns."));
            yield break;
        }
        long row = 0;
        for (int group = 0; group < groups; group++)
        {
            stream.Position = 0;
            var data = ParquetSerializer.DeserializeUntypedAsync(stream, null, group).GetAwaiter().GetResult();
            foreach (var values in data.Data)
            {
                row++;
                yield return new InputRecord((JsonObject)ToJson(values)!, shown, 0, 0, row);
            }
        }
    }

    /// <summary>A value Parquet.Net gives (dictionaries for structs, lists, primitives) as JSON.</summary>
    internal static JsonNode? ToJson(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        IDictionary<string, object?> d => new JsonObject(d.Select(p => KeyValuePair.Create(p.Key, ToJson(p.Value)))),
        IDictionary d => new JsonObject(d.Keys.Cast<object>().Select(k => KeyValuePair.Create(k.ToString()!, ToJson(d[k])))),
        byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
        IEnumerable e => new JsonArray(e.Cast<object?>().Select(ToJson).ToArray()),
        DateTime t => JsonValue.Create(t.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
        DateTimeOffset t => JsonValue.Create(t.ToString("O", System.Globalization.CultureInfo.InvariantCulture)),
        double x => JsonValue.Create(x),
        float x => JsonValue.Create(x),
        decimal x => JsonValue.Create(x),
        long x => JsonValue.Create(x),
        int x => JsonValue.Create(x),
        short x => JsonValue.Create(x),
        sbyte x => JsonValue.Create(x),
        byte x => JsonValue.Create(x),
        ulong x => JsonValue.Create(x),
        uint x => JsonValue.Create(x),
        ushort x => JsonValue.Create(x),
        _ => JsonValue.Create(value.ToString()),
    };
}
