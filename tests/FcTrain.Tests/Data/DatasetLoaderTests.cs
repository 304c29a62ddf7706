using System.Security.Cryptography;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Tests.Data;

/// <summary>The sample datasets in datasets/, loaded for real from the repository.</summary>
public sealed class DatasetLoaderTests
{
    private static readonly LoadResult Samples = DatasetLoader.Load(RepoPaths.Root, []);

    [Fact]
    public void The_samples_validate_clean()
    {
        Assert.Empty(Samples.Diagnostics);
        Assert.Equal(["calendar", "shop", "travel", "weather"], Samples.Datasets.Select(d => d.Manifest.Name));
    }

    [Fact]
    public void The_samples_cover_every_kind_of_conversation_in_train_and_eval()
    {
        var all = Samples.Datasets.SelectMany(d => d.Conversations).ToList();
        Assert.True(all.Count >= 64, $"{all.Count} conversations");

        int eval = all.Count(c => c.Split == Split.Eval);
        Assert.InRange(eval / (double)all.Count, 0.15, 0.25);
        foreach (string kind in new[] { "single", "parallel", "multi-step", "answer", "thinking", "no-call", "no-tool", "clarify" })
        {
            Assert.Contains(all, c => c.Split == Split.Train && c.Conversation.Tags!.Contains(kind));
            Assert.Contains(all, c => c.Split == Split.Eval && c.Conversation.Tags!.Contains(kind));
        }
        // The tags say what the messages do.
        Assert.All(all.Where(c => c.Conversation.Tags!.Contains("parallel")), c =>
            Assert.Contains(c.Conversation.Messages, m => m.ToolCalls is { Count: > 1 }));
        Assert.All(all.Where(c => c.Conversation.Tags!.Contains("no-call") || c.Conversation.Tags!.Contains("no-tool")), c =>
            Assert.DoesNotContain(c.Conversation.Messages, m => m.ToolCalls is not null));
    }

    [Fact]
    public void Records_carry_the_data_of_the_files()
    {
        var travel = Samples.Datasets.Single(d => d.Manifest.Name == "travel");
        Assert.Equal("1.0.0", travel.Manifest.Version);
        Assert.Equal(new TemplateOptions(), travel.Manifest.Template);
        var convert = travel.Functions.Single(f => f.Name == "convert_currency");
        Assert.Equal("datasets/travel/functions/convert_currency.json", convert.Source.File);
        Assert.Equal("object", (string?)convert.Parameters["type"]);

        var (conversation, split) = travel.Conversations.Single(c => c.Conversation.Id == "travel-002");
        Assert.Equal(Split.Train, split);
        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant], conversation.Messages.Select(m => m.Role));
        var call = Assert.Single(conversation.Messages[1].ToolCalls!);
        Assert.Equal(("call_1", "convert_currency", 1200), (call.Id, call.Name, (int)call.Arguments["amount"]!));
        Assert.Equal("call_1", conversation.Messages[2].ToolCallId);
        Assert.Equal(6.31, (double)conversation.Messages[2].Content!["result"]!);
        Assert.Equal("1,200 JPY is about 6.31 GBP at today's rate.", conversation.Messages[3].Text);
    }

    [Fact]
    public void Jsonl_records_know_their_line()
    {
        var shop = Samples.Datasets.Single(d => d.Manifest.Name == "shop");
        var jsonl = shop.Conversations.Select(c => c.Conversation).Where(c => c.Source.File.EndsWith(".jsonl")).ToList();
        Assert.Equal([1, 2, 3, 4], jsonl.Select(c => c.Source.Line));
        Assert.Equal("datasets/shop/conversations/more.jsonl", jsonl[0].Source.File);
    }

    [Fact]
    public void Loading_a_file_loads_its_dataset_and_never_writes()
    {
        string folder = Path.Combine(RepoPaths.Root, "datasets", "weather");
        var before = Snapshot(folder);

        var result = DatasetLoader.Load(RepoPaths.Root, ["datasets/weather/conversations/weather-001.json"]);

        Assert.Empty(result.Diagnostics);
        Assert.Equal("weather", Assert.Single(result.Datasets).Manifest.Name);
        Assert.Equal(before, Snapshot(folder));
    }

    [Fact]
    public void A_fraction_split_is_a_stable_hash_of_seed_and_id()
    {
        var ids = Enumerable.Range(0, 2000).Select(i => $"conv-{i}").ToList();
        var rule = new SplitRule(EvalFraction: 0.2, Seed: "s1");
        var splits = ids.Select(id => FcTrain.Validation.DatasetSplit.Of(id, rule)).ToList();

        Assert.InRange(splits.Count(s => s == Split.Eval), 340, 460);
        Assert.Equal(splits, ids.Select(id => FcTrain.Validation.DatasetSplit.Of(id, rule)));
        // The first 8 bytes of SHA-256("s1" + id), big-endian, as a fraction of 2^64, compared with 0.2.
        foreach (string id in ids.Take(50))
        {
            double unit = (System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes("s1" + id))) >> 11) / (double)(1UL << 53);
            Assert.Equal(unit < 0.2 ? Split.Eval : Split.Train, FcTrain.Validation.DatasetSplit.Of(id, rule));
        }
        Assert.NotEqual(splits, ids.Select(id => FcTrain.Validation.DatasetSplit.Of(id, rule with { Seed = "s2" })));
    }

    private static Dictionary<string, string> Snapshot(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).ToDictionary(
            f => f,
            f => File.Exists(f) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))) + File.GetLastWriteTimeUtc(f).Ticks : "dir");
}
