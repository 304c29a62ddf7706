using System.Diagnostics;
using System.Text.Json.Nodes;
using FcTrain.Interop;
using FcTrain.Settings;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Interop;

public class TrainerRecipesTests
{
    /// <summary>Python's reading of the generated files: the YAML configs as JSON, and whether the script compiles.</summary>
    private static JsonObject ReadWithPython(string dir)
    {
        var start = new ProcessStartInfo("python3", ["-c", """
            import ast, json, sys, yaml
            d = sys.argv[1]
            ast.parse(open(d + "/train_trl.py").read())
            print(json.dumps({"axolotl": yaml.safe_load(open(d + "/axolotl.yaml")), "accelerate": yaml.safe_load(open(d + "/accelerate.yaml"))}))
            """, dir]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
        return JsonNode.Parse(stdout)!.AsObject();
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void The_recipes_parse_name_the_exported_files_and_the_tokenizer_gives_the_same_ids()
    {
        string dir = Directory.CreateTempSubdirectory("fctrain-recipes-").FullName;
        try
        {
            var settings = new FcTrainSettings { Model = "google/gemma-2-2b-it", Epochs = 3 };
            var tokenizer = GemmaTokenizer.Embedded(ToolTokenMode.Reserved);
            var written = TrainerRecipes.Write(dir, settings, tokenizer, 1500);

            Assert.All(written, f => Assert.True(File.Exists(f), f));
            var parsed = ReadWithPython(dir);
            var axolotl = parsed["axolotl"]!;
            Assert.Equal("./train.jsonl", (string?)axolotl["datasets"]![0]!["path"]);
            Assert.Null(axolotl["datasets"]![0]!["type"]); // empty: the rows are used as they are
            Assert.Equal("./eval.jsonl", (string?)axolotl["test_datasets"]![0]!["path"]);
            Assert.Equal("./tokenizer", (string?)axolotl["tokenizer_config"]);
            Assert.Equal("google/gemma-2-2b-it", (string?)axolotl["base_model"]);
            Assert.Equal(3, (int)axolotl["num_epochs"]!);
            Assert.Equal(settings.Lora.TargetModules, axolotl["lora_target_modules"]!.AsArray().Select(t => (string)t!));
            Assert.Equal("bf16", (string?)parsed["accelerate"]!["mixed_precision"]);
            string script = File.ReadAllText(Path.Combine(dir, TrainerRecipes.TrlScript));
            Assert.Contains("\"train.jsonl\"", script);
            Assert.Contains("\"eval.jsonl\"", script);
            Assert.Contains(TrainerRecipes.Requirements, script);
            Assert.Equal("<pad>", (string?)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer", "tokenizer_config.json")))!["pad_token"]);

            var reloaded = GemmaTokenizer.FromFolder(Path.Combine(dir, "tokenizer"), ToolTokenMode.Reserved);
            string text = "<start_of_turn>user\nWeather in Lisbon?<end_of_turn>";
            Assert.Equal(tokenizer.Encode(text), reloaded.Encode(text));
            Assert.Equal(tokenizer.MarkupIds, reloaded.MarkupIds);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
