using System.Text.Json;
using FcTrain.Data;
using FcTrain.Templates;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Cli;

/// <summary>fctrain render, tokens and tokenize, run as a process in the repository.</summary>
public class TokenCommandsTests
{
    private static string Root => RepoPaths.Root;

    [Fact]
    public void Render_prints_the_template_text_and_the_mask()
    {
        var loaded = DatasetLoader.Load(Root, ["datasets/weather"]);
        var dataset = loaded.Datasets.Single();
        var (conversation, _) = dataset.Conversations.First();
        var segments = ChatTemplate.Render(conversation, dataset.Functions, dataset.Manifest.Template with { Serialization = "hermes" });

        var (exit, stdout, stderr) = CliRunner.Run(Root, "render", conversation.Source.File, "--serialization", "hermes");
        Assert.Equal(0, exit);
        Assert.Equal(ChatTemplate.Text(segments), stdout);

        (exit, stdout, _) = CliRunner.Run(Root, "render", conversation.Source.File, "--serialization", "hermes", "--mask");
        Assert.Equal(MaskView.Render(segments), stdout);
        Assert.Empty(stderr);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Tokens_encode_and_decode_round_trip_and_encode_jsonl_in_bulk()
    {
        var (exit, stdout, _) = CliRunner.Run(Root, "tokens", "encode", "--bos", "Hi <end_of_turn> 😀");
        Assert.Equal(0, exit);
        int[] ids = JsonSerializer.Deserialize<int[]>(stdout)!;
        Assert.Equal([GemmaTokenizer.BosId, .. GemmaTokenizer.Embedded().Encode("Hi <end_of_turn> 😀")], ids);

        (exit, stdout, _) = CliRunner.Run(Root, "tokens", "decode", JsonSerializer.Serialize(ids));
        Assert.Equal("<bos>Hi <end_of_turn> 😀", stdout);

        string input = Path.Combine(Directory.CreateTempSubdirectory("fctrain-cli-").FullName, "texts.jsonl");
        File.WriteAllLines(input, ["\"one\"", "\"two words\"", "\"\\n\\tx\""]);
        (exit, stdout, _) = CliRunner.Run(Root, "tokens", "encode", "--input", input);
        Assert.Equal(0, exit);
        Assert.Equal(new[] { "one", "two words", "\n\tx" }.Select(t => JsonSerializer.Serialize(GemmaTokenizer.Embedded().Encode(t))),
            stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        File.WriteAllLines(input, ["\"ok\"", "not json"]);
        (exit, _, string stderr) = CliRunner.Run(Root, "tokens", "encode", "--input", input);
        Assert.Equal(1, exit);
        Assert.StartsWith($"{input}(2,", stderr);
        Assert.Contains("error FCT0114", stderr);
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void Tokenize_writes_shards_and_reports_statistics_and_overlong_conversations()
    {
        string outDir = Directory.CreateTempSubdirectory("fctrain-cli-").FullName;
        var (exit, stdout, _) = CliRunner.Run(Root, "tokenize", "datasets/weather", "--shards", outDir);
        Assert.Equal(0, exit);
        Assert.Matches(@"train: \d+ conversation\(s\), [\d,]+ tokens in \d+ row\(s\) of <= 1500, trained [\d.]+ %, packing efficiency [\d.]+ %, longest conversation weather-\d+ \(\d+ tokens\)", stdout);
        Assert.True(File.Exists(Path.Combine(outDir, "manifest.json")));
        Assert.True(File.Exists(Path.Combine(outDir, "train.safetensors")));

        (exit, stdout, _) = CliRunner.Run(Root, "tokenize", "datasets/weather", "--shards", outDir, "--max-seq-length", "300");
        Assert.Equal(1, exit);
        Assert.Matches(@"datasets/weather/conversations/weather-\d+\.json\(1,1\): error FCT0130: conversation 'weather-\d+' is \d+ tokens long, more than max_seq_length 300", stdout);

        (exit, stdout, _) = CliRunner.Run(Root, "tokenize", "datasets/weather", "--shards", outDir, "--max-seq-length", "300", "--truncate");
        Assert.Equal(0, exit);
        Assert.Contains("truncated", stdout);
        Directory.Delete(outDir, true);
    }
}
