using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Tests.Data;

public class DatasetLoaderTests
{
    [Fact]
    public void Sample_datasets_validate_clean()
    {
        var result = DatasetLoader.Load(RepoPaths.Root, []);

        Assert.Empty(result.Diagnostics.Select(d => d.ToString()));
        Assert.NotEmpty(result.Datasets);
        Assert.All(result.Datasets, d => Assert.NotEmpty(d.Functions));
    }

    [Fact]
    public void Sample_files_point_their_schema_at_the_repository_schemas()
    {
        // Editors follow "$schema" to complete and check a file as it is typed: the relative path must resolve.
        var result = DatasetLoader.Load(RepoPaths.Root, []);
        var files = result.Datasets.SelectMany(d => d.Functions.Select(f => f.Source.File).Concat(d.Conversations.Select(c => c.Conversation.Source.File)))
            .Concat(result.Datasets.Select(d => d.Manifest.Source.File))
            .Distinct();
        foreach (string file in files)
        {
            string path = Path.Combine(RepoPaths.Root, file);
            var documents = file.EndsWith(".jsonl") ? File.ReadLines(path).Where(l => l.Length > 0) : [File.ReadAllText(path)];
            foreach (string json in documents)
            {
                string schema = JsonNode.Parse(json)!["$schema"]!.GetValue<string>();
                Assert.True(File.Exists(Path.Combine(Path.GetDirectoryName(path)!, schema)), $"{file}: {schema}");
            }
        }
    }

    [Fact]
    public void Sample_eval_split_is_about_a_fifth_and_covers_every_kind()
    {
        var conversations = DatasetLoader.Load(RepoPaths.Root, []).Datasets.SelectMany(d => d.Conversations).ToList();
        var eval = conversations.Where(c => c.Split == Split.Eval).Select(c => c.Conversation).ToList();

        Assert.InRange(eval.Count / (double)conversations.Count, 0.15, 0.25);
        var kinds = new[] { "single", "parallel", "multi_step", "answer", "chit_chat", "irrelevant", "clarify" };
        foreach (string kind in kinds)
        {
            Assert.Contains(eval, c => c.Tags!.Contains(kind));
            Assert.Contains(conversations, c => c.Split == Split.Train && c.Conversation.Tags!.Contains(kind));
        }
        // Thinking and answers after tool results are in the data too.
        Assert.Contains(eval, c => c.Messages.Any(m => m.Thinking is not null));
    }

    [Fact]
    public void Maps_json_onto_the_model()
    {
        var shop = DatasetLoader.Load(RepoPaths.Root, ["datasets/shop"]).Datasets.Single();

        Assert.Equal("datasets/shop", shop.Directory);
        Assert.Equal("1.0.0", shop.Manifest.Version);
        Assert.Equal(new TemplateOptions(), shop.Manifest.Template);
        var c = shop.Conversations.Single(x => x.Conversation.Id == "shop-010").Conversation;
        Assert.Equal("datasets/shop/conversations/more.jsonl", c.Source.File);
        Assert.Equal(2, c.Source.Line); // the second line of the JSONL file
        Assert.Equal([Role.User, Role.Assistant, Role.Tool, Role.Assistant, Role.Tool, Role.Assistant], c.Messages.Select(m => m.Role));
        Assert.Equal("Check the status first.", c.Messages[1].Thinking);
        var call = Assert.Single(c.Messages[3].ToolCalls!);
        Assert.Equal(("call_2", "cancel_order", "A70707"), (call.Id, call.Name, (string?)call.Arguments["order_id"]));
        Assert.Equal(("call_2", "cancel_order"), (c.Messages[4].ToolCallId, c.Messages[4].Name));
        Assert.Equal("65.00 USD", (string?)((JsonObject)c.Messages[4].Content!)["refund"]);
        Assert.StartsWith("A70707 hadn't shipped", c.Messages[5].Text);
        var cancel = shop.Functions.Single(f => f.Name == "cancel_order");
        Assert.Equal("datasets/shop/functions/cancel_order.json", cancel.Source.File);
        Assert.Equal("object", (string?)cancel.Parameters["type"]);
    }

    [Fact]
    public void A_file_inside_a_dataset_loads_that_dataset_once()
    {
        var result = DatasetLoader.Load(RepoPaths.Root, ["datasets/travel/conversations/travel-001.json", "datasets/travel", "datasets/travel/dataset.json"]);

        Assert.Empty(result.Diagnostics);
        Assert.Equal("travel", Assert.Single(result.Datasets).Manifest.Name);
    }

    [Fact]
    public void Eval_fraction_split_is_stable_and_close_to_the_fraction()
    {
        var rule = new SplitRule(EvalFraction: 0.2, Seed: "s1");
        var ids = Enumerable.Range(0, 10_000).Select(i => $"conv-{i:D5}").ToList();

        var first = ids.Select(rule.Assign).ToList();
        Assert.Equal(first, ids.Select(rule.Assign));                      // deterministic
        Assert.InRange(first.Count(s => s == Split.Eval) / 10_000.0, 0.19, 0.21);
        var other = ids.Select(new SplitRule(EvalFraction: 0.2, Seed: "s2").Assign).ToList();
        Assert.NotEqual(first, other);                                     // the seed salts the hash
        // Growing the fraction only moves conversations from train to eval.
        var wider = ids.Select(new SplitRule(EvalFraction: 0.3, Seed: "s1").Assign).ToList();
        Assert.All(first.Zip(wider), p => Assert.True(p.First == Split.Train || p.Second == Split.Eval));
        // Pinned: a later version must not move conversations between splits of existing datasets.
        Assert.Equal("ttEtttEtttEEttEEtttttttttEEtttttttttEttt", string.Concat(first.Take(40).Select(s => s == Split.Eval ? 'E' : 't')));
    }
}
