using FcTrain.Snapshots;

namespace FcTrain.Tests.Snapshots;

public sealed class SnapshotTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fctrain-snapshot-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Verified => Path.Combine(_dir, "train.verified.json");
    private string Received => Path.Combine(_dir, "train.received.json");

    private static readonly SnapshotSettings Cases = new([], ToolCallSnapshot.CaseLine);

    private static string Doc(params (string Id, string Name)[] cases) =>
        "{\n  \"cases\": [\n" + string.Join(",\n", cases.Select(c =>
            $"    {{\n      \"id\": \"{c.Id}\",\n      \"answer\": \"tool_calls\",\n      \"calls\": [\n        {{\n          \"name\": \"{c.Name}\"\n        }}\n      ]\n    }}")) + "\n  ]\n}\n";

    [Fact]
    public void ReceivedPath_SitsBesideVerified() =>
        Assert.Equal(Path.Combine("a", "b", "eval.received.json"), Snapshot.ReceivedPathOf(Path.Combine("a", "b", "eval.verified.json")));

    [Fact]
    public void FirstRun_WritesReceived_AndFailsAsNew()
    {
        var result = Snapshot.Verify(Verified, Doc(("w-1#1", "f")));
        Assert.Equal(SnapshotStatus.New, result.Status);
        Assert.False(result.Passed);
        Assert.False(File.Exists(Verified));
        Assert.Equal(Doc(("w-1#1", "f")), File.ReadAllText(Received));
    }

    [Fact]
    public void Accept_PromotesReceived_ThenTheSameTextMatches_AndStaleReceivedIsRemoved()
    {
        Snapshot.Verify(Verified, Doc(("w-1#1", "f")));
        Assert.True(Snapshot.Accept(Verified));
        Assert.False(File.Exists(Received));
        Assert.False(Snapshot.Accept(Verified)); // nothing left to accept

        File.WriteAllText(Received, "stale");
        var again = Snapshot.Verify(Verified, Doc(("w-1#1", "f")).Replace("\n", "\r\n")); // line endings do not matter
        Assert.Equal(SnapshotStatus.Matched, again.Status);
        Assert.Equal("", again.Diff);
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Mismatch_WritesReceived_AndTheDiffNamesTheChangedCase()
    {
        var cases = Enumerable.Range(1, 9).Select(i => ($"w-{i}#1", "get_weather")).ToArray();
        File.WriteAllText(Verified, Doc(cases));
        cases[6] = ("w-7#1", "get_forecast");

        var result = Snapshot.Verify(Verified, Doc(cases), Cases);

        Assert.Equal(SnapshotStatus.Mismatched, result.Status);
        Assert.Equal(["w-7#1"], result.ChangedSections);
        Assert.Equal(Doc(cases), File.ReadAllText(Received));
        string[] lines = result.Diff.Split('\n');
        Assert.Equal($"--- {Verified}", lines[0]);
        Assert.Equal($"+++ {Received}", lines[1]);
        // One hunk, headed by the case it is in, deletion before insertion, 3 lines of context.
        Assert.Single(lines, l => l.StartsWith("@@", StringComparison.Ordinal));
        Assert.Matches(@"^@@ -\d+,7 \+\d+,7 @@ ""id"": ""w-7#1"",$", lines[2]);
        Assert.Equal("-          \"name\": \"get_weather\"", lines[6]);
        Assert.Equal("+          \"name\": \"get_forecast\"", lines[7]);
        Assert.True(File.Exists(Verified));
        Assert.Equal(Doc(cases.Select((c, i) => i == 6 ? ("w-7#1", "get_weather") : c).ToArray()), File.ReadAllText(Verified)); // verified untouched
    }

    [Fact]
    public void AddedAndRemovedCases_AreNamed()
    {
        File.WriteAllText(Verified, Doc(("a#1", "f"), ("b#1", "f"), ("c#1", "f")));
        var result = Snapshot.Verify(Verified, Doc(("a#1", "f"), ("c#1", "f"), ("d#1", "f")), Cases);
        Assert.Equal(["b#1", "d#1"], result.ChangedSections.Order());
    }

    [Fact]
    public void AcceptFlag_WritesVerifiedAtOnce()
    {
        File.WriteAllText(Verified, Doc(("a#1", "f")));
        var result = Snapshot.Verify(Verified, Doc(("a#1", "g")), Cases, accept: true);
        Assert.Equal(SnapshotStatus.Accepted, result.Status);
        Assert.True(result.Passed);
        Assert.Equal(Doc(("a#1", "g")), File.ReadAllText(Verified));
        Assert.False(File.Exists(Received));
    }

    [Fact]
    public void Scrubbers_ReplaceVolatileParts_BeforeComparing()
    {
        var settings = new SnapshotSettings([SnapshotSettings.Replace(_dir, "{RepoRoot}"), SnapshotSettings.DateTimes, SnapshotSettings.Guids]);
        string run1 = $"{{\"adapter\": \"{_dir}/adapter\", \"at\": \"2026-11-28T07:21:43.123Z\", \"run\": \"0f8fad5b-d9cb-469f-a165-70867728950e\"}}";
        string run2 = $"{{\"adapter\": \"{_dir}/adapter\", \"at\": \"2027-01-02T03:04:05+01:00\", \"run\": \"7c9e6679-7425-40de-944b-e07fc1f90ae7\"}}";
        Snapshot.Verify(Verified, run1, settings, accept: true);
        Assert.Equal("{\"adapter\": \"{RepoRoot}/adapter\", \"at\": \"{DateTime}\", \"run\": \"{Guid}\"}\n", File.ReadAllText(Verified));
        Assert.Equal(SnapshotStatus.Matched, Snapshot.Verify(Verified, run2, settings).Status);
    }
}

public class LineDiffTests
{
    [Fact]
    public void Identical_HasNoChanges() => Assert.False(LineDiff.Of("a\nb\n", "a\nb").HasChanges);

    [Fact]
    public void DistantChanges_MakeSeparateHunks_WithCorrectRanges()
    {
        string a = string.Join("\n", Enumerable.Range(1, 20).Select(i => $"line {i}"));
        string b = a.Replace("line 2\n", "line two\n").Replace("line 18\n", "").Replace("line 20", "line 20\nline 21");
        string diff = LineDiff.Of(a, b).Format("a", "b");
        string[] hunks = diff.Split('\n').Where(l => l.StartsWith("@@", StringComparison.Ordinal)).ToArray();
        Assert.Equal(["@@ -1,5 +1,5 @@", "@@ -15,6 +15,6 @@"], hunks);
        Assert.Contains("-line 2\n+line two\n", diff);
        Assert.Contains("-line 18\n", diff);
        Assert.Contains("+line 21\n", diff);
    }

    [Fact]
    public void FromNothing_IsAllInsertions() =>
        Assert.Equal("--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n", LineDiff.Of("", "x\ny\n").Format("a", "b"));
}
