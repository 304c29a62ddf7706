using System.Text;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using FcTrain.Diagnostics;
using FcTrain.Settings;

namespace FcTrain.Tests.Settings;

/// <summary>The one settings layer: defaults &lt; fctrain.json &lt; flags, with canonical errors.</summary>
public sealed class SettingsReaderTests : IDisposable
{
    readonly string dir = Directory.CreateTempSubdirectory("fctrain-settings-").FullName;
    public void Dispose() => Directory.Delete(dir, recursive: true);

    string Write(string json, bool bom = false)
    {
        string path = Path.Combine(dir, "fctrain.json");
        File.WriteAllBytes(path, [.. (bom ? Encoding.UTF8.Preamble.ToArray() : []), .. Encoding.UTF8.GetBytes(json)]);
        return path;
    }

    EffectiveSettings Read(params SettingOverride[] overrides) => SettingsReader.Read(new Workspace(dir), null, overrides, dir);

    static IReadOnlyList<Diagnostic> Errors(Action read) => Assert.Throws<FcTrainException>(read).Diagnostics;

    [Fact]
    public void Defaults_are_the_courses()
    {
        var o = new FcTrainSettings();
        Assert.Equal((1e-4, 0.1, 0.1, 1, 4, 1.0, 1, 1500), (o.LearningRate, o.WeightDecay, o.WarmupRatio, o.BatchSize, o.GradientAccumulationSteps, o.MaxGradNorm, o.Epochs, o.MaxSeqLength));
        Assert.Equal((16, 64.0, 0.05, false), (o.Lora.Rank, o.Lora.Alpha, o.Lora.Dropout, o.Lora.UseRsLora));
        Assert.Equal(["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens", "lm_head"], o.Lora.TargetModules);
    }

    [Fact]
    public void File_values_override_defaults_flags_override_the_file_and_each_value_knows_its_source()
    {
        Write("""
            {
              // comments are allowed
              "$schema": "./schemas/fctrain.v1.schema.json",
              "model": "google/gemma-2-2b-it",
              "device": "cpu",
              "train": { "epochs": 3, "learningRate": 0.002 },
              "lora": { "r": 8, "targetModules": ["q_proj", "v_proj"] }
            }
            """);
        var e = Read(new SettingOverride("train.epochs", "5", "--epochs"), new SettingOverride("lora.alpha", "16", "--set lora.alpha"));
        var o = e.Value;
        Assert.Equal(("google/gemma-2-2b-it", 5, 0.002, "cpu"), (o.Model, o.Epochs, o.LearningRate, o.Device));
        Assert.Equal((8, 16.0, 4), (o.Lora.Rank, o.Lora.Alpha, o.GradientAccumulationSteps));
        Assert.Equal(["q_proj", "v_proj"], o.Lora.TargetModules);
        Assert.Equal(SettingSource.Flag, e.SourceOf("train.epochs"));
        Assert.Equal(SettingSource.File, e.SourceOf("train.learningRate"));
        Assert.Equal(SettingSource.Default, e.SourceOf("train.seed"));
        Assert.Equal(Path.Combine(dir, "fctrain.json"), e.ConfigFile);
    }

    [Fact]
    public void Init_adapter_is_read_from_train_relative_to_the_workspace()
    {
        Write("""{ "train": { "initAdapter": "adapters/start" } }""");
        Assert.Equal(Path.Combine(dir, "adapters/start"), Read().Value.InitAdapter);
    }

    [Fact]
    public void Every_schema_error_of_the_file_is_reported_with_line_and_column()
    {
        string path = Write("{\n  \"train\": {\n    \"epochs\": 0,\n    \"lerningRate\": 1\n  },\n  \"lora\": { \"dropout\": \"high\" }\n}\n");
        var errors = Errors(() => Read());
        Assert.Contains(errors, e => e.Line == 3 && e.Column == 15 && e.Message.Contains("/train/epochs"));
        Assert.Contains(errors, e => e.Line == 4 && e.Column == 20 && e.Message.Contains("/train/lerningRate"));
        Assert.Contains(errors, e => e.Line == 6 && e.Column == 24 && e.Message.Contains("/lora/dropout"));
        Assert.All(errors, e => Assert.StartsWith($"{path}(", e.ToString()));
        Assert.All(errors, e => Assert.Equal(SettingsReader.InvalidFile, e.Code));
    }

    [Fact]
    public void A_syntax_error_names_its_position()
    {
        Write("{\n  \"model\": \"tiny\"\n  \"output\": \"x\"\n}");
        Assert.Equal(3, Assert.Single(Errors(() => Read())).Line);
    }

    [Theory]
    [InlineData("4294967296")]
    [InlineData("1e30")]
    public void An_integer_the_schema_accepts_but_int32_cannot_hold_is_an_error_at_its_position(string value)
    {
        Write("{\n  \"train\": {\n    \"epochs\": " + value + "\n  }\n}\n");
        var error = Assert.Single(Errors(() => Read()));
        Assert.Equal((3, 15), (error.Line, error.Column));
        Assert.Contains("out of range", error.Message);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted_as_in_data_files()
    {
        Write("{ \"train\": { \"epochs\": 2 } }", bom: true);
        Assert.Equal(2, Read().Value.Epochs);
    }

    [Fact]
    public void A_lone_surrogate_escape_is_an_error_not_a_crash()
    {
        Write("{ \"model\": \"\\ud800\" }");
        Assert.Equal(SettingsReader.InvalidFile, Assert.Single(Errors(() => Read())).Code);
    }

    [Theory]
    [InlineData("train.epochs", "0", "--epochs")]
    [InlineData("lora.r", "0", "--lora-r")]
    [InlineData("train.learningRate", "0", "--lr")]
    [InlineData("train.learningRate", "-1e-3", "--lr")]
    [InlineData("train.epochs", "three", "--epochs")]
    [InlineData("train.epochs", "4294967296", "--epochs")]
    [InlineData("device", "tpu", "--device")]
    [InlineData("train.gradientCheckpointing", "maybe", "--gradient-checkpointing")]
    public void A_flag_value_out_of_range_is_a_usage_error_naming_the_flag(string key, string value, string flag)
    {
        var e = Assert.Throws<FcTrainException>(() => Read(new SettingOverride(key, value, flag)));
        Assert.True(e.IsUsage);
        Assert.StartsWith(flag, e.Diagnostic.Message);
    }

    [Fact]
    public void An_unknown_key_in_set_is_a_usage_error()
    {
        var e = Assert.Throws<FcTrainException>(() => Read(new SettingOverride("train.epoch", "3", "--set train.epoch")));
        Assert.True(e.IsUsage);
        Assert.Contains("'train.epoch' is not a setting", e.Diagnostic.Message);
    }

    [Fact]
    public void Paths_from_the_file_are_relative_to_the_workspace_and_paths_from_flags_to_the_current_directory()
    {
        Write("""{ "shards": "data/shards" }""");
        string sub = Directory.CreateDirectory(Path.Combine(dir, "sub")).FullName;
        var e = SettingsReader.Read(new Workspace(dir), null, [new("output", "out", "--output")], sub);
        Assert.Equal(Path.Combine(dir, "data/shards"), e.Value.Shards);
        Assert.Equal(Path.Combine(sub, "out"), e.Value.Output);
    }

    [Fact]
    public void The_workspace_is_the_nearest_folder_with_fctrain_json_else_with_datasets()
    {
        string sub = Directory.CreateDirectory(Path.Combine(dir, "datasets", "travel", "conversations")).FullName;
        Assert.Equal(dir, Workspace.Find(sub).Root);
        Write("{}");
        string inner = Directory.CreateDirectory(Path.Combine(dir, "a", "datasets")).FullName;
        Assert.Equal(dir, Workspace.Find(inner).Root);
        Assert.Equal(dir, Workspace.Find(Path.Combine(sub, "travel-001.json")).Root);
    }

    [Fact]
    public void The_table_covers_exactly_the_keys_of_the_schema()
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "schemas/fctrain.v1.schema.json")))!;
        IEnumerable<string> Keys(JsonNode node, string prefix) =>
            node["properties"]!.AsObject().Where(p => p.Key != "$schema").SelectMany(p =>
                p.Value!["properties"] is not null ? Keys(p.Value!, prefix + p.Key + ".") : [prefix + p.Key]);
        Assert.Equal(Keys(schema, "").Order(), SettingsTable.All.Select(s => s.Key).Order());
    }

    [Fact]
    public void MSBuild_properties_map_one_to_one_onto_the_table()
    {
        var items = XDocument.Load(Path.Combine(RepoPaths.Root, "build/FcTrain.Settings.targets"))
            .Descendants("FcTrainSetting")
            .Select(x => (Key: (string)x.Attribute("Include")!, Value: (string)x.Attribute("Value")!))
            .ToList();
        Assert.Equal(SettingsTable.All.Select(s => (s.Key, $"$({s.Property})")), items);
        Assert.Equal(SettingsTable.All.Count, SettingsTable.All.Select(s => s.Flag).Distinct().Count());
    }
}
