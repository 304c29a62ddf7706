using System.Diagnostics;
using FcTrain.Data;

namespace FcTrain.Tests.Data;

/// <summary>Hostile dataset layouts: globs that climb out of the dataset, symlinks out of the repository, link loops.</summary>
public class DatasetLayoutTests
{
    private const string Secret = "OUTSIDE-SECRET-Q";

    [Theory]
    [InlineData("../../outside/*.json")]
    [InlineData("../d/conversations/*.json")]
    [InlineData("conversations/../../../outside/*.json")]
    [InlineData("/tmp/*.json")]
    public void A_glob_that_leaves_the_dataset_is_FCT0021_and_reads_nothing(string glob)
    {
        using var repo = new TempRepository();
        repo.Write("outside/c9.json", "{ \"broken\": " + Secret);
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", $"\"conversations/*.json\", \"{glob}\""));

        var diagnostics = repo.Diagnostics();

        var error = Assert.Single(diagnostics);
        Assert.StartsWith("datasets/d/dataset.json(5,", error);
        Assert.Contains($"error FCT0021: /conversations/1: the pattern '{glob}' reaches outside the dataset folder", error);
    }

    [Fact]
    public void A_glob_longer_than_256_characters_is_FCT0004()
    {
        // Found by the mutation test: a 100,000-character glob exceeded the linear-time regex engine's limit.
        using var repo = new TempRepository();
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", $"\"{new string('x', 100_000)}\""));

        var error = Assert.Single(repo.Diagnostics());
        Assert.StartsWith("datasets/d/dataset.json(5,", error);
        Assert.Contains("error FCT0004: /conversations/0:", error);
    }

    [Fact]
    public void A_leading_dot_slash_still_matches_inside_the_folder()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", "\"./conversations/*.json\""));

        var result = repo.Load();

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Datasets.Single().Conversations);
    }

    [Fact]
    public void A_symlink_to_a_file_outside_the_repository_is_FCT0022_naming_the_link()
    {
        using var repo = new TempRepository();
        string outside = Directory.CreateTempSubdirectory("fctrain-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "c2.json"), Secret);
            File.CreateSymbolicLink(Path.Combine(repo.Dataset, "conversations/c2.json"), Path.Combine(outside, "c2.json"));

            var diagnostics = repo.Diagnostics();

            var error = Assert.Single(diagnostics);
            Assert.Equal("datasets/d/conversations/c2.json: error FCT0022: this path is a symbolic link to a path outside the repository; fctrain reads only files inside it. Copy the file into the dataset instead.", error);
            Assert.DoesNotContain(diagnostics, d => d.Contains(Secret));
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_symlinked_folder_outside_the_repository_is_FCT0022_and_not_walked()
    {
        using var repo = new TempRepository();
        string outside = Directory.CreateTempSubdirectory("fctrain-outside-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(outside, "c3.json"), Secret);
            Directory.CreateSymbolicLink(Path.Combine(repo.Dataset, "conversations/more"), outside);
            repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", "\"conversations/**/*.json\""));

            var error = Assert.Single(repo.Diagnostics());
            Assert.StartsWith("datasets/d/conversations/more: error FCT0022: this path is a symbolic link to a path outside the repository", error);
        }
        finally
        {
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public void A_symlink_inside_the_repository_is_followed()
    {
        using var repo = new TempRepository();
        string shared = repo.Write("shared/c1.json", File.ReadAllText(Path.Combine(repo.Dataset, "conversations/c1.json")));
        File.Delete(Path.Combine(repo.Dataset, "conversations/c1.json"));
        File.CreateSymbolicLink(Path.Combine(repo.Dataset, "conversations/c1.json"), shared);

        var result = repo.Load();

        Assert.Empty(result.Diagnostics);
        Assert.Single(result.Datasets.Single().Conversations);
    }

    [Theory]
    [InlineData("self")]
    [InlineData("pair")]
    [InlineData("ancestor")]
    public void A_symlink_loop_is_FCT0022_and_ends_quickly(string kind)
    {
        using var repo = new TempRepository();
        string conversations = Path.Combine(repo.Dataset, "conversations");
        switch (kind)
        {
            case "self":
                File.CreateSymbolicLink(Path.Combine(conversations, "loop.json"), Path.Combine(conversations, "loop.json"));
                break;
            case "pair":
                File.CreateSymbolicLink(Path.Combine(conversations, "a.json"), Path.Combine(conversations, "b.json"));
                File.CreateSymbolicLink(Path.Combine(conversations, "b.json"), Path.Combine(conversations, "a.json"));
                break;
            case "ancestor":
                Directory.CreateSymbolicLink(Path.Combine(conversations, "up"), repo.Dataset);
                break;
        }
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"conversations/*.json\"", "\"conversations/**/*.json\""));

        var watch = Stopwatch.StartNew();
        var diagnostics = repo.Diagnostics();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.NotEmpty(diagnostics);
        Assert.All(diagnostics, d => Assert.Matches(@"^datasets/d/conversations/(loop|a|b|up)(\.json)?: error FCT0022: this path is a symbolic link (loop|to a folder that contains it)", d));
    }

    [Fact]
    public void A_path_argument_outside_the_repository_is_FCT0017()
    {
        using var repo = new TempRepository();

        var result = DatasetLoader.Load(repo.Dataset, ["../../outside"]);

        var error = Assert.Single(result.Diagnostics).ToString();
        Assert.Equal("../../outside: error FCT0017: this path is outside the repository; fctrain validates only datasets inside it. Pass a path under the repository root.", error);
    }
}
