using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using FcTrain.IO;
using static TorchSharp.torch;

namespace FcTrain.SafeTensors;

/// <summary>
/// Writes safetensors files as transformers and PEFT expect them: <c>__metadata__</c> with <c>"format": "pt"</c>
/// (transformers refuses model weights without it), tensors in the given order, header padded with spaces
/// to a multiple of 8 bytes so every tensor is aligned. The file appears atomically.
/// </summary>
public static class SafeTensorsWriter
{
    public static void Write(string path, IEnumerable<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.Select(t => (t.Name, Value: t.Value.detach().cpu().contiguous())).ToList();
        try
        {
            var header = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                ["__metadata__"] = new SortedDictionary<string, string>(
                    (metadata ?? new Dictionary<string, string>()).Append(new("format", "pt")).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value), StringComparer.Ordinal),
            };
            long offset = 0;
            foreach (var (name, value) in items)
            {
                long bytes = value.NumberOfElements * value.ElementSize;
                header[name] = new { dtype = SafeTensorsFile.ToDType(value.dtype), shape = value.shape, data_offsets = new[] { offset, offset + bytes } };
                offset += bytes;
            }
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(header);
            int padded = (json.Length + 7) / 8 * 8;
            var headerBytes = new byte[padded];
            Array.Fill(headerBytes, (byte)' ');
            json.CopyTo(headerBytes, 0);

            AtomicFile.Write(path, stream =>
            {
                Span<byte> length = stackalloc byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(length, padded);
                stream.Write(length);
                stream.Write(headerBytes);
                foreach (var (_, value) in items) value.WriteBytesToStream(stream, 1 << 20);
            });
        }
        finally
        {
            foreach (var (_, value) in items) value.Dispose();
        }
    }
}
