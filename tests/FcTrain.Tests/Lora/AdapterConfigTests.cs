using FcTrain.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Tests.Models;
using static TorchSharp.torch;

namespace FcTrain.Tests.Lora;

/// <summary>Hostile adapter folders: a malformed adapter_config.json is FCT0211 at its pointer, never a crash.</summary>
public class AdapterConfigTests
{
    [Theory]
    [InlineData("[]", "", "must hold a JSON object, not an array")]
    [InlineData("""{"peft_type": "LORA", "lora_alpha": 8, "target_modules": ["q_proj"]}""", "/r", "r (the LoRA rank) is missing")]
    [InlineData("""{"peft_type": "LORA", "r": "8", "lora_alpha": 8, "target_modules": ["q_proj"]}""", "/r", "must be an integer from 1 to 65536, not the string \"8\"")]
    [InlineData("""{"peft_type": "LORA", "r": 0, "lora_alpha": 8, "target_modules": ["q_proj"]}""", "/r", "must be an integer from 1 to 65536, not 0")]
    [InlineData("""{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "use_rslora": "true"}""", "/use_rslora", "must be true or false, not the string \"true\"")]
    [InlineData("""{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"], "use_dora": "false"}""", "/use_dora", "must be true or false")]
    [InlineData("""{"peft_type": "LORA", "r": 4, "lora_alpha": "8", "target_modules": ["q_proj"]}""", "/lora_alpha", "must be a number")]
    [InlineData("""{"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": [1, 2]}""", "/target_modules", "must be a module name or an array of them")]
    [InlineData("""{"peft_type": 7, "r": 4}""", "/peft_type", "must be a string, not 7")]
    public void A_malformed_adapter_config_is_FCT0211_at_its_pointer(string json, string pointer, string expected)
    {
        string folder = Directory.CreateTempSubdirectory("fctrain-adapter-").FullName;
        File.WriteAllText(Path.Combine(folder, PeftAdapter.ConfigFile), json);

        var error = Assert.Throws<FcTrainException>(() => PeftAdapter.ReadConfig(folder)).Diagnostic;

        Assert.Equal("FCT0211", error.Code);
        Assert.EndsWith(PeftAdapter.ConfigFile, error.File);
        Assert.StartsWith(pointer.Length == 0 ? "/: " : $"{pointer}: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void An_adapter_rank_that_differs_from_its_weights_is_FCT0212_before_allocating()
    {
        string folder = ModelFolderTests.CopyModel("tiny-f32");
        ModelFolderTests.EditJson(Path.Combine(folder, "adapter", PeftAdapter.ConfigFile), c => c["r"] = 60000);
        using var model = ModelLoader.Load(folder, ScalarType.Float32, CPU);

        var error = Assert.Throws<FcTrainException>(() => PeftAdapter.Load(model, Path.Combine(folder, "adapter"))).Diagnostic;

        Assert.Equal("FCT0212", error.Code);
        Assert.Contains("has rank 4, but adapter_config.json says r = 60000", error.Message);
    }
}
