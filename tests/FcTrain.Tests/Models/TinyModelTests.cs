using FcTrain.Models;
using FcTrain.Models.Gemma2;
using FcTrain.SafeTensors;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models;

public class TinyModelTests
{
    [Fact]
    public void Materialises_a_hugging_face_folder_that_loads_back_to_the_same_weights()
    {
        string root = Directory.CreateTempSubdirectory("fctrain-tiny-").FullName;
        try
        {
            string folder = TinyModel.EnsureMaterialized(root);
            Assert.Equal(folder, TinyModel.EnsureMaterialized(root));   // once
            Assert.Equal("pt", SafeTensorsFile.Open(Path.Combine(folder, "model.safetensors")).Metadata["format"]);
            Assert.Equal(256000, Gemma2Config.Load(Path.Combine(folder, "config.json")).VocabSize);

            using var created = TinyModel.Create();
            using var loaded = ModelLoader.Load(folder, ScalarType.Float32, CPU);
            var expected = created.state_dict();
            foreach (var (name, value) in loaded.state_dict())
                Assert.True(expected[name].eq(value).all().item<bool>(), name);
        }
        finally { Directory.Delete(root, recursive: true); }
    }

    [Fact]
    public void State_dict_names_and_shapes_equal_transformers()
    {
        // Pinned: the sorted key/shape list of transformers' Gemma2ForCausalLM for this config (tied head: no lm_head.weight).
        using var model = new Gemma2ForCausalLM(TinyModel.Config, ScalarType.Float32, CPU);
        string actual = string.Join('\n', model.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => $"{p.Key} [{string.Join(", ", p.Value.shape)}]")) + "\n";
        string expected = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData/models/tiny-state-dict.txt"));
        Assert.Equal(expected, actual);
    }
}
