using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.IO;

namespace FcTrain.Packing;

/// <summary>
/// One split's packed rows in a safetensors file (docs/shards.md): five int32 tensors, rows back to back —
/// <c>input_ids</c>, <c>labels</c>, <c>position_ids</c>, <c>document_ids</c> of shape (N) for N tokens, and
/// <c>row_offsets</c> of shape (R + 1): row r is <c>[row_offsets[r], row_offsets[r+1])</c>. The safetensors
/// <c>__metadata__</c> holds <c>format = fctrain-packed-v1</c>.
/// </summary>
public static class ShardFile
{
    public const string Format = "fctrain-packed-v1";
    private static readonly string[] Columns = ["input_ids", "labels", "position_ids", "document_ids"];

    public static void Write(string path, IReadOnlyList<PackedRow> rows)
    {
        int total = rows.Sum(r => r.InputIds.Length);
        var offsets = new int[rows.Count + 1];
        for (int r = 0; r < rows.Count; r++) offsets[r + 1] = offsets[r] + rows[r].InputIds.Length;

        var tensors = new List<(string Name, int[] Data)>();
        for (int c = 0; c < Columns.Length; c++)
        {
            var data = new int[total];
            for (int r = 0; r < rows.Count; r++)
            {
                var row = rows[r];
                int[] column = c switch { 0 => row.InputIds, 1 => row.Labels, 2 => row.PositionIds, _ => row.DocumentIds };
                column.CopyTo(data, offsets[r]);
            }
            tensors.Add((Columns[c], data));
        }
        tensors.Add(("row_offsets", offsets));

        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = Format } };
        long begin = 0;
        foreach (var (name, data) in tensors)
        {
            long end = begin + 4L * data.Length;
            header[name] = new JsonObject { ["dtype"] = "I32", ["shape"] = new JsonArray(data.Length), ["data_offsets"] = new JsonArray(begin, end) };
            begin = end;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;   // the data starts 8-byte aligned (safetensors convention: pad with spaces)
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
            stream.Write(length);
            stream.Write(json);
            for (int i = json.Length; i < padded; i++) stream.WriteByte((byte)' ');
            foreach (var (_, data) in tensors)
            {
                if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("safetensors data is little-endian");
                stream.Write(MemoryMarshal.AsBytes(data.AsSpan()));
            }
        });
    }

    public static List<PackedRow> Read(string path)
    {
        FcTrainException Bad(string why) => FcTrainException.Error("FCT0133", $"this shard file is not readable ({why}). Run 'fctrain tokenize' again to rewrite the shards.", path);
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length < 8) throw Bad("shorter than a safetensors header");
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8)) throw Bad("the header length exceeds the file");
        JsonObject header;
        try { header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject(); }
        catch (JsonException e) { throw Bad($"its header is not JSON: {e.Message}"); }
        if ((string?)header["__metadata__"]?["format"] != Format) throw Bad($"its format is not {Format}");

        int[] Tensor(string name)
        {
            if (header[name] is not JsonObject t || (string?)t["dtype"] != "I32") throw Bad($"no int32 tensor '{name}'");
            long begin = (long)t["data_offsets"]![0]!, end = (long)t["data_offsets"]![1]!;
            long start = 8 + (long)headerLength + begin;
            if (begin < 0 || end < begin || start + (end - begin) > bytes.Length || (end - begin) % 4 != 0) throw Bad($"tensor '{name}' lies outside the file");
            return MemoryMarshal.Cast<byte, int>(bytes.AsSpan((int)start, (int)(end - begin))).ToArray();
        }

        int[] offsets = Tensor("row_offsets");
        var columns = Columns.Select(Tensor).ToArray();
        if (columns.Any(c => c.Length != columns[0].Length) || offsets.Length == 0 || offsets[^1] != columns[0].Length) throw Bad("the tensors disagree in length");
        var rows = new List<PackedRow>(offsets.Length - 1);
        for (int r = 0; r + 1 < offsets.Length; r++)
        {
            var range = offsets[r]..offsets[r + 1];
            rows.Add(new PackedRow(columns[0][range], columns[1][range], columns[2][range], columns[3][range]));
        }
        return rows;
    }
}
