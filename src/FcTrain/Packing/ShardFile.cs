using FcTrain.Diagnostics;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Packing;

/// <summary>
/// One split's packed rows in a safetensors file (docs/tokenization.md): five int32 tensors, rows back to back —
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
        var offsets = new int[rows.Count + 1];
        for (int r = 0; r < rows.Count; r++) offsets[r + 1] = offsets[r] + rows[r].InputIds.Length;
        int[] Column(Func<PackedRow, int[]> pick) => [.. rows.SelectMany(pick)];

        using var scope = NewDisposeScope();
        SafeTensorsWriter.Write(path,
        [
            ("input_ids", tensor(Column(r => r.InputIds))),
            ("labels", tensor(Column(r => r.Labels))),
            ("position_ids", tensor(Column(r => r.PositionIds))),
            ("document_ids", tensor(Column(r => r.DocumentIds))),
            ("row_offsets", tensor(offsets)),
        ], new Dictionary<string, string> { ["format"] = Format });
    }

    public static List<PackedRow> Read(string path)
    {
        FcTrainException Bad(string why) => FcTrainException.Error("FCT0133", $"this shard file is not readable ({why}). Run 'fctrain tokenize' again to rewrite the shards.", path);
        var file = SafeTensorsFile.Open(path);
        if (!file.Metadata.TryGetValue("format", out var format) || format != Format) throw Bad($"its format is not {Format}");

        int[] Tensor(string name)
        {
            if (!file.Tensors.TryGetValue(name, out var info) || info.DType != "I32" || info.Shape.Length != 1) throw Bad($"no int32 vector '{name}'");
            using var values = file.Read(name);
            return values.data<int>().ToArray();
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
