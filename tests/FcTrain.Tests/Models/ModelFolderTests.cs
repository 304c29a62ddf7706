using System.Text;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Models;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

/// <summary>Hostile model folders (config.json, the safetensors index and headers): every problem is an FcTrainException with its code.</summary>
public class ModelFolderTests
{
    internal static string CopyModel(string name)
    {
        string source = Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2", name);
        string target = Directory.CreateTempSubdirectory("fctrain-model-").FullName;
        foreach (string file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    internal static void EditJson(string path, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static Diagnostic LoadError(string folder) =>
        Assert.Throws<FcTrainException>(() => ModelLoader.Load(folder, ScalarType.Float32, CPU).Dispose()).Diagnostic;

    [Theory]
    [InlineData("num_key_value_heads", 0)]
    [InlineData("vocab_size", -5)]
    [InlineData("hidden_size", 0)]
    [InlineData("head_dim", -1)]
    public void A_config_size_that_is_not_positive_is_FCT0206_at_its_key(string key, int value)
    {
        string folder = CopyModel("tiny-f32");
        EditJson(Path.Combine(folder, "config.json"), c => c[key] = value);

        var error = LoadError(folder);

        Assert.Equal("FCT0206", error.Code);
        Assert.EndsWith("config.json", error.File);
        Assert.True(error.Line > 0);
        Assert.StartsWith($"/{key}: {key} must be at least 1, not {value}.", error.Message);
    }

    [Fact]
    public void A_config_that_is_an_array_is_FCT0206()
    {
        string folder = CopyModel("tiny-f32");
        File.WriteAllText(Path.Combine(folder, "config.json"), "[1, 2]");

        var error = LoadError(folder);

        Assert.Equal("FCT0206", error.Code);
        Assert.Contains("must hold a JSON object, not an array", error.Message);
    }

    [Fact]
    public void A_vocabulary_larger_than_the_weights_is_FCT0209_before_allocating()
    {
        string folder = CopyModel("tiny-f32");
        EditJson(Path.Combine(folder, "config.json"), c => c["vocab_size"] = 2_000_000_000);

        var error = LoadError(folder);

        Assert.Equal("FCT0209", error.Code);
        Assert.Contains("model.embed_tokens.weight", error.Message);
    }

    [Fact]
    public void An_index_without_weight_map_is_FCT0219()
    {
        string folder = CopyModel("tiny-bf16-sharded");
        EditJson(Path.Combine(folder, "model.safetensors.index.json"), i => i.Remove("weight_map"));

        var error = LoadError(folder);

        Assert.Equal("FCT0219", error.Code);
        Assert.StartsWith("/weight_map: the index has no weight_map object", error.Message);
    }

    [Fact]
    public void An_index_that_is_not_json_is_FCT0219_at_its_position()
    {
        string folder = CopyModel("tiny-bf16-sharded");
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"), "{\n  \"weight_map\": {\n    \"a\": ");

        var error = LoadError(folder);

        Assert.Equal("FCT0219", error.Code);
        Assert.Equal(3, error.Line);
        Assert.Contains("malformed JSON", error.Message);
    }

    [Theory]
    [InlineData("../secret.safetensors")]
    [InlineData("/etc/hostname")]
    [InlineData("sub/../../secret.safetensors")]
    public void An_index_naming_a_file_outside_the_folder_is_FCT0220_and_reads_nothing(string shard)
    {
        string folder = CopyModel("tiny-bf16-sharded");
        File.WriteAllBytes(Path.Combine(Path.GetDirectoryName(folder)!, "secret.safetensors"), Encoding.ASCII.GetBytes("SECRET!!"));
        EditJson(Path.Combine(folder, "model.safetensors.index.json"), i => i["weight_map"]!["model.norm.weight"] = shard);

        var error = LoadError(folder);

        Assert.Equal("FCT0220", error.Code);
        Assert.StartsWith($"/weight_map/model.norm.weight: the shard '{shard}' is not a file of the model folder", error.Message);
        Assert.DoesNotContain("header", error.Message);
    }

    [Theory]
    [InlineData("[-4, 0]", "negative value")]
    [InlineData("[0]", "has data_offsets [0]; a tensor has two")]
    [InlineData("[0, 4, 8]", "a tensor has two")]
    [InlineData("[\"0\", 4]", "the header is not valid JSON of the expected shape")]
    public void Bad_data_offsets_are_FCT0203(string offsets, string expected)
    {
        string path = Path.Combine(Directory.CreateTempSubdirectory("fctrain-st-").FullName, "x.safetensors");
        byte[] header = Encoding.UTF8.GetBytes($$$"""{"t":{"dtype":"F32","shape":[1],"data_offsets":{{{offsets}}}}}""");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((long)header.Length), .. header, 0, 0, 0, 0]);

        var error = Assert.Throws<FcTrainException>(() => SafeTensorsFile.Open(path)).Diagnostic;

        Assert.Equal("FCT0203", error.Code);
        Assert.Contains(expected, error.Message);
    }
}
