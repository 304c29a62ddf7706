using System.Buffers.Binary;
using System.Text.Json;
using FcTrain.Diagnostics;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Tests.SafeTensors;

public sealed class SafeTensorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fctrain-st-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.Int32)]
    [InlineData(ScalarType.Int64)]
    public void Round_trips_every_dtype_with_pt_metadata(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var a = arange(12, dtype: float32).reshape(3, 4).mul(0.5).to(dtype);
        var b = tensor(new float[] { -1.25f, 7f }).to(dtype);
        string path = Path.Combine(_dir, "t.safetensors");
        SafeTensorsWriter.Write(path, [("a", a), ("b.weight", b)]);

        var file = SafeTensorsFile.Open(path);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal(new long[] { 3, 4 }, file.Tensors["a"].Shape);
        var a2 = file.Read("a");
        Assert.Equal(dtype, a2.dtype);
        Assert.True(a2.eq(a).all().item<bool>());
        Assert.True(file.Read("b.weight").eq(b).all().item<bool>());
    }

    [Fact]
    public void Header_is_padded_to_8_bytes_with_spaces()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(_dir, "ids.safetensors");
        SafeTensorsWriter.Write(path, [("input_ids", tensor(new[] { 2, 17, 5, 9, 11, 1 }).reshape(2, 3))]);
        byte[] bytes = File.ReadAllBytes(path);
        long n = BinaryPrimitives.ReadInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        string header = System.Text.Encoding.UTF8.GetString(bytes, 8, (int)n);
        using var doc = JsonDocument.Parse(header.TrimEnd(' '));
        Assert.Equal("I32", doc.RootElement.GetProperty("input_ids").GetProperty("dtype").GetString());
        Assert.Equal(8 + n + 24, bytes.Length);
    }

    [Fact]
    public void A_truncated_file_is_a_clear_error()
    {
        using var scope = NewDisposeScope();
        string path = Path.Combine(_dir, "t.safetensors");
        SafeTensorsWriter.Write(path, [("w", ones(64, 64))]);
        File.WriteAllBytes(path, File.ReadAllBytes(path)[..^100]);

        var e = Assert.Throws<FcTrainException>(() => SafeTensorsFile.Open(path));

        Assert.Equal("FCT0202", e.Diagnostic.Code);
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Reads_the_bf16_shard_written_by_python()
    {
        using var scope = NewDisposeScope();
        var file = SafeTensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2/tiny-bf16-sharded/model-00001-of-00002.safetensors"));
        var w = file.Read("model.embed_tokens.weight");
        Assert.Equal(ScalarType.BFloat16, w.dtype);
        Assert.Equal(new long[] { 384, 48 }, w.shape);
        Assert.True(w.abs().max().to(float32).item<float>() > 0);
    }
}
