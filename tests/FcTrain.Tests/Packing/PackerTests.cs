using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Packing;

namespace FcTrain.Tests.Packing;

public class PackerTests
{
    private static TokenizedConversation Conversation(string id, int length, int seed)
    {
        var rng = new Random(seed);
        int[] ids = Enumerable.Range(0, length).Select(_ => rng.Next(3, 1000)).ToArray();
        int[] labels = ids.Select((t, i) => i % 3 == 0 ? TokenizedConversation.IgnoreIndex : t).ToArray();
        return new TokenizedConversation(id, ids, labels, new SourceSpan($"d/{id}.json", 1, 1));
    }

    [Fact]
    public void Packing_loses_no_token_and_restarts_positions_per_conversation()
    {
        var rng = new Random(7);
        var conversations = Enumerable.Range(0, 200).Select(i => Conversation($"c{i}", rng.Next(1, 700), i)).ToList();
        var diagnostics = new List<Diagnostic>();
        var rows = Packer.Pack(conversations, 1500, truncate: false, diagnostics);

        Assert.Empty(diagnostics);
        Assert.All(rows, r => Assert.InRange(r.InputIds.Length, 1, 1500));
        // Every conversation appears exactly once, whole, in one row: split rows back into documents and compare.
        var documents = rows.SelectMany(r => Enumerable.Range(0, r.DocumentIds.Max() + 1).Select(d =>
        {
            int[] at = Enumerable.Range(0, r.InputIds.Length).Where(t => r.DocumentIds[t] == d).ToArray();
            Assert.Equal(Enumerable.Range(0, at.Length), at.Select(t => r.PositionIds[t]));   // positions restart at 0
            Assert.Equal(Enumerable.Range(at[0], at.Length), at);                             // contiguous
            return (Ids: at.Select(t => r.InputIds[t]).ToArray(), Labels: at.Select(t => r.Labels[t]).ToArray());
        })).ToList();
        Assert.Equal(conversations.Count, documents.Count);
        foreach (var c in conversations)
            Assert.Single(documents, d => d.Ids.AsSpan().SequenceEqual(c.InputIds) && d.Labels.AsSpan().SequenceEqual(c.Labels));
        // First-fit decreasing packs these tightly.
        double efficiency = conversations.Sum(c => (double)c.Length) / (rows.Count * 1500.0);
        Assert.True(efficiency > 0.95, $"packing efficiency {efficiency:P1}");
    }

    [Fact]
    public void Overlong_conversations_are_errors_with_their_length_unless_truncating()
    {
        var conversations = new[] { Conversation("ok", 10, 1), Conversation("long", 20, 2), Conversation("longer", 30, 3) };
        var diagnostics = new List<Diagnostic>();
        Packer.Pack(conversations, 16, truncate: false, diagnostics);
        Assert.Equal(2, diagnostics.Count);   // every one reported
        Assert.Equal("d/long.json(1,1): error FCT0130: conversation 'long' is 20 tokens long, more than max_seq_length 16; it would be cut. Shorten or split the conversation, raise max_seq_length, or pass --truncate to cut it on purpose.", diagnostics[0].ToString());

        diagnostics.Clear();
        var rows = Packer.Pack(conversations, 16, truncate: true, diagnostics);
        Assert.Empty(diagnostics);
        Assert.Equal(42, rows.Sum(r => r.InputIds.Length));   // 10 + 16 + 16
        Assert.Contains(rows, r => r.InputIds.AsSpan().SequenceEqual(conversations[2].InputIds.AsSpan(0, 16)));
    }

    [Fact]
    public void Shard_files_round_trip()
    {
        var rows = Packer.Pack(Enumerable.Range(0, 30).Select(i => Conversation($"c{i}", 50 + i * 13, i)).ToList(), 400, false, []);
        string path = Path.Combine(Directory.CreateTempSubdirectory("fctrain-shard-").FullName, "train.safetensors");
        ShardFile.Write(path, rows);
        var read = ShardFile.Read(path);
        Assert.Equal(rows.Count, read.Count);
        for (int r = 0; r < rows.Count; r++)
        {
            Assert.Equal(rows[r].InputIds, read[r].InputIds);
            Assert.Equal(rows[r].Labels, read[r].Labels);
            Assert.Equal(rows[r].PositionIds, read[r].PositionIds);
            Assert.Equal(rows[r].DocumentIds, read[r].DocumentIds);
        }
        Directory.Delete(Path.GetDirectoryName(path)!, true);
    }
}
