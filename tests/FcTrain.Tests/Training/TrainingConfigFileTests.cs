using FcTrain.Training;

namespace FcTrain.Tests.Training;

public class TrainingConfigFileTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("fctrain-config-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string json)
    {
        string path = Path.Combine(dir, "fctrain.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Fact]
    public void Defaults_are_the_courses()
    {
        var o = new TrainingOptions();
        Assert.Equal((1e-4, 0.1, 0.1, 1, 4, 1.0, 1, 1500), (o.LearningRate, o.WeightDecay, o.WarmupRatio, o.BatchSize, o.GradientAccumulationSteps, o.MaxGradNorm, o.Epochs, o.MaxSeqLength));
        Assert.Equal((16, 64.0, 0.05, false), (o.Lora.Rank, o.Lora.Alpha, o.Lora.Dropout, o.Lora.UseRsLora));
        Assert.Equal(9, o.Lora.TargetModules.Count);
    }

    [Fact]
    public void File_values_override_defaults_and_missing_keys_keep_them()
    {
        string path = Write("""
            {
              // comments are allowed
              "$schema": "./schemas/fctrain.v1.schema.json",
              "model": "google/gemma-2-2b-it",
              "train": { "epochs": 3, "learningRate": 0.002, "device": "cpu" },
              "lora": { "r": 8, "targetModules": ["q_proj", "v_proj"] }
            }
            """);
        var (o, errors) = TrainingConfigFile.Load(path, new TrainingOptions());
        Assert.Empty(errors);
        Assert.Equal(("google/gemma-2-2b-it", 3, 0.002, "cpu"), (o.Model, o.Epochs, o.LearningRate, o.Device));
        Assert.Equal(8, o.Lora.Rank);
        Assert.Equal(["q_proj", "v_proj"], o.Lora.TargetModules);
        Assert.Equal(64, o.Lora.Alpha);
        Assert.Equal(4, o.GradientAccumulationSteps);
    }

    [Fact]
    public void Init_adapter_is_read_from_train()
    {
        var (o, errors) = TrainingConfigFile.Load(Write("""{ "train": { "initAdapter": "adapters/start" } }"""), new TrainingOptions());
        Assert.Empty(errors);
        Assert.Equal("adapters/start", o.InitAdapter);
    }

    [Fact]
    public void Every_schema_error_is_reported_with_line_and_column()
    {
        string path = Write("{\n  \"train\": {\n    \"epochs\": 0,\n    \"lerningRate\": 1\n  },\n  \"lora\": { \"dropout\": \"high\" }\n}\n");
        var (_, errors) = TrainingConfigFile.Load(path, new TrainingOptions());
        Assert.Contains(errors, e => e.Line == 3 && e.Column == 15 && e.Message.Contains("/train/epochs"));
        Assert.Contains(errors, e => e.Line == 4 && e.Column == 20 && e.Message.Contains("/train/lerningRate"));
        Assert.Contains(errors, e => e.Line == 6 && e.Column == 24 && e.Message.Contains("/lora/dropout"));
        Assert.All(errors, e => Assert.StartsWith($"{path}(", e.ToString()));
        Assert.All(errors, e => Assert.Equal("FCT0301", e.Code));
    }

    [Fact]
    public void Syntax_errors_name_the_position()
    {
        string path = Write("{\n  \"model\": \"tiny\"\n  \"output\": \"x\"\n}");
        var (_, errors) = TrainingConfigFile.Load(path, new TrainingOptions());
        var error = Assert.Single(errors);
        Assert.Equal(3, error.Line);
    }
}
