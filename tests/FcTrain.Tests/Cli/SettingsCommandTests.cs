using System.Text.Json.Nodes;

namespace FcTrain.Tests.Cli;

/// <summary><c>fctrain settings</c> through the real CLI process, in a workspace built in a temporary folder.</summary>
public sealed class SettingsCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("fctrain-settings-cli-").FullName;

    public SettingsCommandTests()
    {
        File.WriteAllText(Path.Combine(_root, "fctrain.json"), """
            {
              "model": "tiny",
              "train": { "epochs": 4 },
              "lora": { "r": 8 }
            }
            """);
        Directory.CreateDirectory(Path.Combine(_root, "datasets", "travel", "conversations"));
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Json_gives_every_value_and_its_source_under_the_nesting_of_fctrain_json()
    {
        var (exit, stdout, stderr) = CliRunner.Run(_root, "settings", "--json", "--lr", "0.002", "--set", "lora.alpha=16");
        Assert.True(exit == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal((4, "fctrain.json"), ((int)json["train"]!["epochs"]!["value"]!, (string)json["train"]!["epochs"]!["source"]!));
        Assert.Equal((0.002, "flag"), ((double)json["train"]!["learningRate"]!["value"]!, (string)json["train"]!["learningRate"]!["source"]!));
        Assert.Equal((16.0, "flag"), ((double)json["lora"]!["alpha"]!["value"]!, (string)json["lora"]!["alpha"]!["source"]!));
        Assert.Equal((1.0, "default"), ((double)json["train"]!["maxGradNorm"]!["value"]!, (string)json["train"]!["maxGradNorm"]!["source"]!));
        Assert.Equal(128, (int)json["eval"]!["maxNewTokens"]!["value"]!);
        Assert.Equal(Path.Combine(_root, "obj", "fctrain", "shards"), (string)json["shards"]!["value"]!);
    }

    [Fact]
    public void From_a_subfolder_the_workspace_is_the_folder_holding_fctrain_json()
    {
        string sub = Path.Combine(_root, "datasets", "travel", "conversations");
        var (exit, stdout, stderr) = CliRunner.Run(sub, "settings");
        Assert.True(exit == 0, stderr);
        Assert.Contains($"workspace {_root}", stdout);
        Assert.Matches(@"(?m)^train\.epochs\s+4\s+fctrain\.json$", stdout);
        Assert.Matches(@"(?m)^lora\.r\s+8\s+fctrain\.json$", stdout);
    }

    [Fact]
    public void A_flag_out_of_range_is_a_usage_error_naming_the_flag()
    {
        var (exit, _, stderr) = CliRunner.Run(_root, "settings", "--epochs", "0");
        Assert.Equal(2, exit);
        Assert.Contains("error FCT0302: --epochs '0'", stderr);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void A_bad_key_in_fctrain_json_is_a_canonical_error_at_its_line_for_every_command()
    {
        File.WriteAllText(Path.Combine(_root, "fctrain.json"), "{\n  \"train\": {\n    \"epochz\": 4\n  }\n}\n");
        foreach (string[] command in new[] { new[] { "settings" }, ["validate"], ["tokenize"], ["train"], ["eval"], ["tokens", "encode", "x"] })
        {
            var (exit, stdout, stderr) = CliRunner.Run(_root, command);
            Assert.True(exit == 1, $"{command[0]}: exit {exit}\n{stdout}{stderr}");
            Assert.Contains($"{Path.Combine(_root, "fctrain.json")}(3,15): error FCT0301:", stdout + stderr);
        }
    }
}
