using System.Text.RegularExpressions;
using FcTrain.Tests.Data;

namespace FcTrain.Tests.Cli;

/// <summary>
/// The CLI on hostile inputs of every class: exit 1 with canonical diagnostics, never the internal-error guard
/// (exit 3, FCT9999) and never a stack trace.
/// </summary>
public class NoInternalErrorTests
{
    private static readonly Regex Canonical = new(@"^\S[^\n]*?(\(\d+,\d+\))?: (error|warning) FCT\d{4}: \S");

    private static void AssertCanonicalErrors(int exit, string output)
    {
        Assert.True(exit == 1, $"exit {exit}: {output}");
        Assert.DoesNotContain("FCT9999", output);
        Assert.DoesNotContain("   at ", output);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("fctrain validate: ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Matches(Canonical, l));
    }

    [Fact]
    public void Validate_reports_every_hostile_data_class_canonically()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/remote.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "$ref": "https://example.com/q.json" } } }""").Replace("\"lookup\"", "\"remote\""));
        repo.Write("datasets/d/functions/loop.json", TempRepository.Function(
            """{ "type": "object", "$ref": "#" }""").Replace("\"lookup\"", "\"loop\""));
        repo.Write("datasets/d/conversations/c2.json", TempRepository.Conversation("\"\\ud800\"").Replace("\"c1\"", "\"c2\""));
        repo.Write("datasets/d/conversations/c3.json", TempRepository.Conversation("1e400").Replace("\"c1\"", "\"c3\""));
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", "\"conversations/**/*.json\", \"../../*.json\""));
        File.CreateSymbolicLink(Path.Combine(repo.Dataset, "conversations/up"), repo.Dataset);
        File.CreateSymbolicLink(Path.Combine(repo.Dataset, "conversations/passwd.json"), "/etc/passwd");

        var (exit, stdout, stderr) = CliRunner.Run(repo.Root, "validate");

        AssertCanonicalErrors(exit, stdout + stderr);
        foreach (string code in new[] { "FCT0011", "FCT0018", "FCT0020", "FCT0021", "FCT0022" })
            Assert.Contains($"error {code}:", stdout);
    }

    [Theory]
    [InlineData("config.json", """{"model_type": "gemma2", "num_key_value_heads": 0}""")]
    [InlineData("config.json", "[]")]
    [InlineData("model.safetensors.index.json", "not json")]
    [InlineData("model.safetensors.index.json", """{"weight_map": {"model.norm.weight": "../../etc/passwd"}}""")]
    [InlineData("adapter/adapter_config.json", """{"peft_type": "LORA", "r": "8", "lora_alpha": 8, "target_modules": "q_proj"}""")]
    public void Score_reports_hostile_model_files_canonically(string file, string content)
    {
        string folder = Directory.CreateTempSubdirectory("fctrain-model-").FullName;
        string source = Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2/tiny-f32");
        foreach (string f in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            string to = Path.Combine(folder, Path.GetRelativePath(source, f));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(f, to);
        }
        File.WriteAllText(Path.Combine(folder, file), content);

        var (exit, _, stderr) = CliRunner.Run(folder, "score", "--model", folder, "--adapter", Path.Combine(folder, "adapter"), "--input-ids", "2,3", "--device", "cpu");

        AssertCanonicalErrors(exit, stderr);
    }
}
