using FcTrain.Tests.Data;
using System.Diagnostics;

namespace FcTrain.Tests.Validation;

/// <summary>Hostile function schemas: references out of the file, reference loops, patterns that backtrack forever.</summary>
public class FunctionSchemaTests
{
    [Fact]
    public void The_base_dataset_is_clean()
    {
        using var repo = new TempRepository();
        Assert.Empty(repo.Diagnostics());
    }

    [Theory]
    [InlineData("https://example.com/schemas/q.json", "a URL")]
    [InlineData("file:///etc/passwd", "a file: URL")]
    [InlineData("../../../../outside.json", "another file")]
    [InlineData("/etc/passwd", "another file")]
    public void A_ref_that_leaves_the_file_is_FCT0018_and_nothing_is_read(string reference, string kind)
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            $$"""{ "type": "object", "properties": { "q": { "$ref": "{{reference}}" } }, "required": ["q"] }"""));

        var diagnostics = repo.Diagnostics();

        var error = Assert.Single(diagnostics);
        Assert.StartsWith("datasets/d/functions/lookup.json(5,", error);
        Assert.Contains($"error FCT0018: /parameters/properties/q/$ref: the $ref '{reference}' points to {kind}.", error);
    }

    [Fact]
    public void A_ref_to_a_repository_schema_by_its_id_compiles()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "string" }, "meta": { "$ref": "https://fctrain.dev/schemas/function.v1.json" } }, "required": ["q"] }"""));

        Assert.Empty(repo.Diagnostics());
    }

    [Theory]
    [InlineData("""{ "type": "object", "$ref": "#" }""", "/parameters")]
    [InlineData("""{ "type": "object", "$defs": { "a": { "$ref": "#/$defs/b" }, "b": { "allOf": [ { "$ref": "#/$defs/a" } ] } }, "properties": { "q": { "$ref": "#/$defs/a" } } }""", "/parameters/$defs/")]
    [InlineData("""{ "type": "object", "$defs": { "a": { "$anchor": "again", "anyOf": [ { "$ref": "#again" } ] } }, "properties": { "q": { "$ref": "#again" } } }""", "/parameters/$defs/a")]
    public void A_ref_loop_is_FCT0011_not_a_stack_overflow(string parameters, string pointer)
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(parameters));

        var error = Assert.Single(repo.Diagnostics(), d => d.Contains("FCT0011"));
        Assert.Contains($"error FCT0011: {pointer}", error);
        Assert.Contains("refers back to itself without reading any part of the arguments", error);
    }

    [Fact]
    public void A_recursive_schema_that_reads_deeper_values_is_allowed()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "$defs": { "node": { "type": "object", "properties": { "children": { "type": "array", "items": { "$ref": "#/$defs/node" } } } } }, "properties": { "q": { "type": "string" }, "tree": { "$ref": "#/$defs/node" } }, "required": ["q"] }"""));

        Assert.Empty(repo.Diagnostics());
    }

    [Fact]
    public void References_that_multiply_beyond_the_bound_are_FCT0011()
    {
        // Each level refers twice to the next: 2^20 schemas for one value.
        var defs = string.Join(", ", Enumerable.Range(0, 20).Select(i => $$"""
            "l{{i}}": { "allOf": [ { "$ref": "#/$defs/l{{i + 1}}" }, { "$ref": "#/$defs/l{{i + 1}}" } ] }
            """));
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            $$"""{ "type": "object", "$defs": { {{defs}}, "l20": { "type": "string" } }, "properties": { "q": { "$ref": "#/$defs/l0" } } }"""));

        var watch = Stopwatch.StartNew();
        var error = Assert.Single(repo.Diagnostics(), d => d.Contains("FCT0011"));
        Assert.Contains("schemas for one value, too many to evaluate", error);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
    }

    [Fact]
    public void A_catastrophic_pattern_times_out_as_FCT0019_naming_the_pattern()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "string", "pattern": "^(a|aa)+$" } }, "required": ["q"] }"""));
        repo.Write("datasets/d/conversations/c1.json", TempRepository.Conversation($"\"{new string('a', 5000)}b\""));

        var watch = Stopwatch.StartNew();
        var diagnostics = repo.Diagnostics();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"validation took {watch.Elapsed}");
        var error = Assert.Single(diagnostics);
        Assert.StartsWith("datasets/d/conversations/c1.json(7,", error);
        Assert.Contains("error FCT0019: /messages/1/tool_calls/0/arguments/q: the pattern '^(a|aa)+$' of 'lookup'", error);
        Assert.Contains("took more than 1 s to match this argument", error);
    }

    [Fact]
    public void A_pattern_that_is_not_a_regular_expression_is_FCT0011()
    {
        using var repo = new TempRepository();
        repo.Write("datasets/d/functions/lookup.json", TempRepository.Function(
            """{ "type": "object", "properties": { "q": { "type": "string", "pattern": "(unclosed" } }, "required": ["q"] }"""));

        var error = Assert.Single(repo.Diagnostics(), d => d.Contains("FCT0011"));
        Assert.Contains("/parameters/properties/q/pattern: 'parameters' is not a usable JSON Schema: the pattern '(unclosed' is not a valid regular expression", error);
    }
}
