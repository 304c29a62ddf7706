using System.Buffers.Binary;
using System.Text.Json;
using FcTrain.Diagnostics;
using static TorchSharp.torch;

namespace FcTrain.SafeTensors;

/// <summary>One tensor's entry in a safetensors header.</summary>
public sealed record TensorInfo(string Name, string DType, long[] Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));
}

/// <summary>
/// A safetensors file (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
/// a JSON header of dtype/shape/byte offsets per tensor, then the raw little-endian data. Tensors are read
/// one at a time, straight from the file into a tensor's memory, so loading never holds two copies of a model.
/// </summary>
public sealed class SafeTensorsFile
{
    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    private readonly long _dataStart;

    private SafeTensorsFile(string path, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata, long dataStart)
    {
        Path = path;
        Tensors = tensors;
        Metadata = metadata;
        _dataStart = dataStart;
    }

    public static SafeTensorsFile Open(string path)
    {
        if (!File.Exists(path))
            throw FcTrainException.Error("FCT0201", $"safetensors file not found. Check the model folder; it must hold the weights named by its index.", path);
        using var stream = File.OpenRead(path);
        long fileLength = stream.Length;
        Span<byte> lengthBytes = stackalloc byte[8];
        if (fileLength < 8 || stream.Read(lengthBytes) != 8)
            throw Truncated(path, "it is shorter than the 8-byte header length");
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
        if (headerLength <= 0 || headerLength > 100_000_000 || 8 + headerLength > fileLength)
            throw Truncated(path, $"its header claims {headerLength} bytes but the file has {fileLength}");
        var header = new byte[headerLength];
        stream.ReadExactly(header);

        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        long dataLength = fileLength - 8 - headerLength;
        try
        {
            using var doc = JsonDocument.Parse(header);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    foreach (var m in property.Value.EnumerateObject()) metadata[m.Name] = m.Value.GetString() ?? "";
                    continue;
                }
                var v = property.Value;
                var offsets = Naturals(v.GetProperty("data_offsets"));
                if (offsets.Length != 2)
                    throw Invalid(path, $"tensor '{property.Name}' has data_offsets [{string.Join(", ", offsets)}]; a tensor has two: begin and end");
                var info = new TensorInfo(property.Name, v.GetProperty("dtype").GetString()!, Naturals(v.GetProperty("shape")), offsets[0], offsets[1]);
                if (info.End > dataLength || info.Begin > info.End)
                    throw Truncated(path, $"tensor '{info.Name}' spans bytes {info.Begin}..{info.End} of a data section of {dataLength} bytes");
                if (info.ByteLength != checked(info.ElementCount * ElementSize(info.DType, path)))
                    throw FcTrainException.Error("FCT0203", $"tensor '{info.Name}' has {info.ByteLength} bytes, which does not match its shape [{string.Join(", ", info.Shape)}] and dtype {info.DType}. The file is corrupt; download or export it again.", path);
                tensors[info.Name] = info;
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException or OverflowException)
        {
            throw Invalid(path, $"the header is not valid JSON of the expected shape ({e.Message.TrimEnd('.')})");
        }
        return new SafeTensorsFile(path, tensors, metadata, 8 + headerLength);
    }

    /// <summary>Reads one tensor into new CPU memory, in the file's dtype.</summary>
    public Tensor Read(string name)
    {
        if (!Tensors.TryGetValue(name, out var info))
            throw FcTrainException.Error("FCT0208", $"no tensor '{name}' in this safetensors file. The checkpoint does not match what loads it.", Path);
        var tensor = empty(info.Shape, ToScalarType(info.DType, Path));
        using var stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        stream.Position = _dataStart + info.Begin;
        tensor.ReadBytesFromStream(stream, 1 << 20);
        return tensor;
    }

    public static ScalarType ToScalarType(string dtype, string file = "fctrain") => dtype switch
    {
        "F32" => ScalarType.Float32,
        "BF16" => ScalarType.BFloat16,
        "F16" => ScalarType.Float16,
        "F64" => ScalarType.Float64,
        "I64" => ScalarType.Int64,
        "I32" => ScalarType.Int32,
        "I16" => ScalarType.Int16,
        "I8" => ScalarType.Int8,
        "U8" => ScalarType.Byte,
        "BOOL" => ScalarType.Bool,
        _ => throw FcTrainException.Error("FCT0204", $"unsupported safetensors dtype '{dtype}'. fctrain reads F32, BF16, F16, F64 and integer tensors.", file),
    };

    public static string ToDType(ScalarType type) => type switch
    {
        ScalarType.Float32 => "F32",
        ScalarType.BFloat16 => "BF16",
        ScalarType.Float16 => "F16",
        ScalarType.Float64 => "F64",
        ScalarType.Int64 => "I64",
        ScalarType.Int32 => "I32",
        ScalarType.Int16 => "I16",
        ScalarType.Int8 => "I8",
        ScalarType.Byte => "U8",
        ScalarType.Bool => "BOOL",
        _ => throw new NotSupportedException($"no safetensors dtype for {type}"),
    };

    private static long ElementSize(string dtype, string file) => dtype switch
    {
        "F64" or "I64" => 8,
        "F32" or "I32" => 4,
        "BF16" or "F16" or "I16" => 2,
        "I8" or "U8" or "BOOL" => 1,
        _ => throw FcTrainException.Error("FCT0204", $"unsupported safetensors dtype '{dtype}'. fctrain reads F32, BF16, F16, F64 and integer tensors.", file),
    };

    /// <summary>The integers of a JSON array, each at least 0 (offsets, dimensions).</summary>
    private static long[] Naturals(JsonElement array)
    {
        var values = array.EnumerateArray().Select(d => d.GetInt64()).ToArray();
        if (values.Any(x => x < 0)) throw new FormatException($"negative value in [{string.Join(", ", values)}]");
        return values;
    }

    private static FcTrainException Invalid(string path, string why) =>
        FcTrainException.Error("FCT0203", $"safetensors {why}. The file is corrupt; download or export it again.", path);

    private static FcTrainException Truncated(string path, string why) =>
        FcTrainException.Error("FCT0202", $"safetensors file is truncated or corrupt: {why}. Download or export it again.", path);
}
