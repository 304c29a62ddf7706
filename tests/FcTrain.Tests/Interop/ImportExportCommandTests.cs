namespace FcTrain.Tests.Interop;

/// <summary>The built CLI: format detection said, exit codes, and export then import through the commands.</summary>
public class ImportExportCommandTests
{
    [Fact]
    public void Import_says_the_detected_format_exits_1_on_a_bad_record_and_0_with_skip_invalid()
    {
        using var workspace = new ImportWorkspace();
        File.WriteAllText(Path.Combine(workspace.Root, "fctrain.json"), "{}");
        string input = workspace.Write("x.jsonl",
            """{"id": 1, "query": "Hi?", "tools": "[{\"name\": \"greet\", \"description\": \"Greets.\", \"parameters\": {}}]", "answers": "[{\"name\": \"greet\", \"arguments\": {}}]"}""" + "\n"
            + """{"id": 2, "query": "Bye?", "tools": "[]", "answers": "[{\"name\": \"greet\", \"arguments\": {}}]"}""" + "\n");

        var (failed, stdout, _) = CliRunner.Run(workspace.Root, "import", "in/x.jsonl", "--out", "datasets/imported");
        Assert.Equal(1, failed);
        Assert.Contains("fctrain import: format xlam (detected: in/x.jsonl line 1 has \"query\" and \"answers\"; pass --format to choose)", stdout);
        Assert.Contains("in/x.jsonl(2,1): error FCT0604: ", stdout);
        Assert.False(Directory.Exists(workspace.Out));

        var (skipped, output, _) = CliRunner.Run(workspace.Root, "import", "--format", "xlam", "in/x.jsonl", "--out", "datasets/imported", "--skip-invalid");
        Assert.Equal(0, skipped);
        Assert.Contains("xlam: 2 record(s), 1 imported, 1 error(s)", output);

        var (valid, summary, _) = CliRunner.Run(workspace.Root, "validate", "datasets/imported");
        Assert.True(valid == 0, summary);
    }

    [Fact]
    public void Export_openai_writes_one_file_per_split_and_a_bad_format_is_a_usage_error()
    {
        using var workspace = new ImportWorkspace();
        var (code, stdout, stderr) = CliRunner.Run(RepoPaths.Root, "export", "--format", "openai", "--out", Path.Combine(workspace.Root, "out"), "datasets/shop");
        Assert.True(code == 0, stdout + stderr);
        Assert.Contains("train conversation(s)", stdout);
        Assert.True(File.Exists(Path.Combine(workspace.Root, "out", "train.jsonl")));
        Assert.True(File.Exists(Path.Combine(workspace.Root, "out", "eval.jsonl")));

        Assert.Equal(2, CliRunner.Run(RepoPaths.Root, "export", "--format", "csv", "--out", "x").ExitCode);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Export_tokenized_writes_the_rows_the_tokenizer_and_the_recipes()
    {
        using var workspace = new ImportWorkspace();
        string dir = Path.Combine(workspace.Root, "tok");
        var (code, stdout, stderr) = CliRunner.Run(RepoPaths.Root, "export", "--format", "tokenized", "--out", dir, "datasets/weather");

        Assert.True(code == 0, stdout + stderr);
        foreach (string file in new[] { "train.jsonl", "eval.jsonl", "tokenizer/tokenizer.json", "tokenizer/tokenizer_config.json", "train_trl.py", "accelerate.yaml", "axolotl.yaml" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
            Assert.Contains($"/tok/{file}", stdout);
        }
        var row = System.Text.Json.Nodes.JsonNode.Parse(File.ReadLines(Path.Combine(dir, "train.jsonl")).First())!;
        Assert.Equal(row["input_ids"]!.AsArray().Count, row["labels"]!.AsArray().Count);
        Assert.Equal(2, (int)row["input_ids"]![0]!); // <bos>
    }

    [Fact]
    public void Every_import_export_and_serving_code_is_documented()
    {
        string docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));
        var documented = System.Text.RegularExpressions.Regex.Matches(docs, @"^\| (FCT06\d\d) \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).Order();
        var codes = typeof(FcTrain.Interop.ImportCodes).GetFields().Concat(typeof(FcTrain.Serving.ServingCodes).GetFields())
            .Select(f => (string)f.GetValue(null)!).Order();
        Assert.Equal(codes, documented);
    }
}
