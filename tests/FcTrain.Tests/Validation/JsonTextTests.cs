using FcTrain.Tests.Data;
namespace FcTrain.Tests.Validation;

/// <summary>JSON that parses but cannot be used faithfully: lone surrogate escapes, numbers beyond double range.</summary>
public class JsonTextTests
{
    [Theory]
    [InlineData("\"\\ud800\"")]
    [InlineData("\"tail \\udfff\"")]
    [InlineData("\"\\ud83d then text\"")]
    public void A_lone_surrogate_escape_is_FCT0020_at_its_position(string argument)
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation(argument));

        var error = Assert.Single(repo.Diagnostics());
        Assert.StartsWith("datasets/d/conversations/c1.json(7,", error);
        Assert.Contains("error FCT0020: a string escape leaves a lone UTF-16 surrogate", error);
    }

    [Fact]
    public void A_lone_surrogate_in_a_property_name_is_FCT0020()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"name\": \"d\"", "\"name\": \"d\", \"\\udc00\": 1"));

        var error = Assert.Single(repo.Diagnostics());
        Assert.StartsWith("datasets/d/dataset.json(3,", error);
        Assert.Contains("error FCT0020:", error);
    }

    [Theory]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("123456789e999")]
    public void A_number_beyond_double_range_is_FCT0020_at_its_position(string number)
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": ["string", "number"] } }, "required": ["q"] }"""));
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation(number));

        var error = Assert.Single(repo.Diagnostics());
        int column = TempRepository.Conversation(number).Split('\n')[6].IndexOf($"\"q\": {number}") + 6;
        Assert.StartsWith($"datasets/d/conversations/c1.json(7,{column}): error FCT0020: the number {number[..Math.Min(number.Length, 6)]}", error);
        Assert.Contains("is outside the range of a double", error);
    }

    [Theory]
    [InlineData("1e30")]
    [InlineData("-99999999999999999999999999999")]
    public void A_number_beyond_what_the_schema_can_compare_is_FCT0020(string number)
    {
        // Found by the mutation test: the schema library compares numbers as decimals and threw on these.
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "number", "minimum": 0 } }, "required": ["q"] }"""));
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation(number));

        var error = Assert.Single(repo.Diagnostics());
        Assert.Contains($"error FCT0020: the number {number} is beyond what schema validation can check", error);
    }

    [Fact]
    public void Tiny_numbers_round_to_zero_and_are_accepted()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "number" } }, "required": ["q"] }"""));
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation("1e-400"));

        Assert.Empty(repo.Diagnostics());
    }

    [Fact]
    public void Render_never_writes_inf_into_a_tool_call()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "number" } }, "required": ["q"] }"""));
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation("1e400"));

        var (exit, stdout, stderr) = CliRunner.Run(repo.Root, "render", "datasets/d/conversations/c1.json");

        Assert.Equal(1, exit);
        Assert.Contains("error FCT0020:", stderr);
        Assert.DoesNotContain("inf", stdout, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr);
    }

    [Fact]
    public void Input_text_quoted_in_a_message_cannot_break_the_line()
    {
        // Found by the mutation test: a flipped byte made System.Text.Json quote "f" and the next line in its message.
        using var repo = new TempRepository();
        repo.Write("datasets/d/conversations/c1.json", "{\n  \"id\": f\n        {\n}");

        var error = Assert.Single(repo.Diagnostics());
        Assert.StartsWith("datasets/d/conversations/c1.json(2,", error);
        Assert.Contains("error FCT0001: malformed JSON:", error);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void An_array_of_more_than_10000_items_is_FCT0003_at_its_position_and_quick()
    {
        // 100,000 unique eval ids took minutes in the schema's pairwise uniqueItems check.
        using var repo = new TempRepository();
        string ids = string.Join(", ", Enumerable.Range(0, 100_000).Select(i => $"\"x{i}\""));
        repo.Write("datasets/d/dataset.json", TempRepository.Manifest.Replace("\"eval_ids\": [\"c1\"]", $"\"eval_ids\": [{ids}]"));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Single(repo.Diagnostics());

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        Assert.StartsWith("datasets/d/dataset.json(6,", error);
        Assert.Contains("error FCT0003: this array has more than 10,000 items", error);
    }
}
