using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using FcTrain.Packing;
using FcTrain.Training;

namespace FcTrain.Tests.Packing;

/// <summary>
/// docs/tokenization.md ("Shards") is a specification other tools write to: a folder built byte by byte from it,
/// without fctrain's writers (unpadded header, free tensor order, an extra tensor, only the manifest fields
/// train reads), is what <c>fctrain train</c> reads.
/// </summary>
public class ShardReaderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("fctrain-spec-shards-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>A safetensors file of int32 vectors: u64 header length, JSON header, little-endian data.</summary>
    static byte[] SafeTensors(params (string Name, int[] Values)[] tensors)
    {
        var header = new JsonObject { ["__metadata__"] = new JsonObject { ["format"] = "fctrain-packed-v1", ["writer"] = "spec test" } };
        var data = new List<byte>();
        foreach (var (name, values) in tensors)
        {
            header[name] = new JsonObject { ["dtype"] = "I32", ["shape"] = new JsonArray(values.Length), ["data_offsets"] = new JsonArray(data.Count, data.Count + 4 * values.Length) };
            foreach (int v in values) data.AddRange(BitConverter.GetBytes(v)); // little-endian on every .NET platform we run
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var file = new byte[8 + json.Length + data.Count];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        return file;
    }

    string Split(string file, byte[] bytes)
    {
        File.WriteAllBytes(Path.Combine(dir, file), bytes);
        return Convert.ToHexStringLower(SHA256.HashData(bytes));
    }

    [Fact]
    public void A_folder_written_from_the_specification_is_read_for_training()
    {
        // Train: one row of two conversations (3 + 2 tokens) and one row of one conversation (2 tokens).
        string train = Split("train.safetensors", SafeTensors(
            ("row_offsets", [0, 5, 7]),
            ("document_ids", [0, 0, 0, 1, 1, 0, 0]),
            ("input_ids", [2, 10, 11, 2, 12, 2, 13]),
            ("extra", [42]),
            ("labels", [-100, -100, 11, 2, 12, -100, 13]),
            ("position_ids", [0, 1, 2, 0, 1, 0, 1])));
        string eval = Split("eval.safetensors", SafeTensors(
            ("input_ids", []), ("labels", []), ("position_ids", []), ("document_ids", []), ("row_offsets", [0])));
        File.WriteAllText(Path.Combine(dir, "manifest.json"), $$"""
            { "format": "fctrain-shards-v1",
              "splits": { "train": { "file": "train.safetensors", "sha256": "{{train}}" },
                          "eval": { "file": "eval.safetensors", "sha256": "{{eval}}" } } }
            """);

        var data = PackedData.Open(dir, maxSeqLength: 5);

        Assert.Empty(data.Eval);
        Assert.Equal(2, data.Train.Count);
        var first = data.Train[0];
        Assert.Equal([2, 10, 11, 2, 12], first.InputIds);
        Assert.Equal([-100, -100, 11, 2, 12], first.Labels);
        Assert.Equal([0, 1, 2, 0, 1], first.PositionIds);
        Assert.Equal([0, 0, 0, 1, 1], first.DocumentIds);
        Assert.Equal([2, 13], data.Train[1].InputIds);
        // Targets: 11 from position 1 and 12 from position 3; the label at document 1's first token is never a target.
        Assert.Equal(2, PackedData.TrainedTokens(first));
    }
}
