using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Tests.Validation;

/// <summary>
/// One fixture dataset per diagnostic code (TestData/validation/&lt;code&gt;-…/): the exact diagnostics it
/// must produce, with file, line, column, code and JSON pointer, and nothing else.
/// </summary>
public class ValidationFixtureTests
{
    public static TheoryData<string, string[]> Fixtures => new()
    {
        { "FCT0001-malformed-json", ["conversations/c1.json(4,3): error FCT0001: malformed JSON: '\"' is invalid after a value"] },
        { "FCT0001-malformed-jsonl-line", ["conversations/c.jsonl(2,133): error FCT0001: malformed JSON: '\"' is invalid after a property name"] },
        { "FCT0001-duplicate-key", ["conversations/c1.json(4,3): error FCT0001: malformed JSON: Duplicate property 'id'"] },
        { "FCT0002-invalid-utf8", ["conversations/c1.json(6,50): error FCT0002: invalid UTF-8 byte 0xFF"] },
        { "FCT0004-schema-violation", [
            "conversations/c1.json(6,15): error FCT0004: /messages/0/role: Value should match one of the values specified by the enum: \"system\", \"user\", \"assistant\", \"tool\".",
            "conversations/c1.json(7,39): error FCT0004: /messages/1/content: Value is \"integer\" but should be \"object, array, string\"."] },
        { "FCT0005-unknown-property", ["conversations/c1.json(6,23): error FCT0005: /messages/0/contnet: unknown property 'contnet' (did you mean 'content'?); allowed here: role, content, thinking, tool_calls, tool_call_id, name, train."] },
        { "FCT0006-wrong-schema", ["conversations/c1.json(2,14): error FCT0006: /$schema: names the schema '../../../../../../schemas/function.v1.schema.json'"] },
        { "FCT0007-duplicate-id", ["conversations/c2.json(3,9): error FCT0007: /id: conversation id 'c1' is already used by validation/FCT0007-duplicate-id/conversations/c1.json."] },
        { "FCT0007-duplicate-function", ["functions/weather_copy.json(3,11): error FCT0007: /name: function 'get_weather' is already defined in validation/FCT0007-duplicate-function/functions/get_weather.json."] },
        { "FCT0008-call-not-offered", ["conversations/c1.json(9,69): error FCT0008: /messages/3/tool_calls/0/name: calls 'get_forecast', which this conversation does not offer;"] },
        { "FCT0009-unknown-function", ["conversations/c1.json(4,32): error FCT0009: /functions/1: offers 'get_wether', which no function file of this dataset defines (did you mean 'get_weather'?)."] },
        { "FCT0010-invalid-arguments", [
            "conversations/c1.json(8,88): error FCT0010: /messages/1/tool_calls/0/arguments/units: the arguments do not match the parameters of 'get_weather' (validation/FCT0010-invalid-arguments/functions/get_weather.json): Value should match one of the values specified by the enum: \"metric\", \"imperial\".",
            "conversations/c1.json(9,61): error FCT0010: /messages/1/tool_calls/1/arguments: the arguments do not match the parameters of 'get_weather' (validation/FCT0010-invalid-arguments/functions/get_weather.json): Required properties [\"city\"] are not present.",
            "conversations/c1.json(9,63): error FCT0010: /messages/1/tool_calls/1/arguments/town: 'get_weather': unknown argument 'town'; allowed here: city, units."] },
        { "FCT0011-invalid-parameters", [
            "functions/get_time.json(8,26): error FCT0011: /parameters/required/1: 'zone' is required but not declared under 'properties'",
            "functions/get_weather.json(7,39): error FCT0011: /parameters/properties/city/type: 'parameters' is not a valid JSON Schema of an object: \"strin\" is not a JSON Schema type"] },
        { "FCT0012-response-without-call", ["conversations/c1.json(9,39): error FCT0012: /messages/3/tool_call_id: tool response to 'call_9' matches no call: no call is waiting for a response here."] },
        { "FCT0013-call-without-response", ["conversations/c1.json(7,43): error FCT0013: /messages/1/tool_calls/0: the call to 'get_weather' gets no tool response before the next user turn (message 2)."] },
        { "FCT0014-role-order", ["conversations/c1.json(7,15): error FCT0014: /messages/1/role: impossible order: two user turns in a row."] },
        { "FCT0015-message-shape", ["conversations/c1.json(6,54): error FCT0015: /messages/0/thinking: a user message cannot have 'thinking'"] },
        { "FCT0016-unknown-eval-id", ["dataset.json(9,33): error FCT0016: /split/eval_ids/1: no conversation of this dataset has the id 'c9'"] },
        { "FCT0018-ref-outside-file", ["functions/get_weather.json(7,39): error FCT0018: /parameters/properties/city/$ref: the $ref 'https://example.com/schemas/city.json' points to a URL."] },
        { "FCT0019-pattern-timeout", ["conversations/c1.json(7,108): error FCT0019: /messages/1/tool_calls/0/arguments/city: the pattern '^(a|aa)+$' of 'get_weather'"] },
        { "FCT0020-unrepresentable-value", ["conversations/c1.json(7,108): error FCT0020: a string escape leaves a lone UTF-16 surrogate"] },
        { "FCT0021-glob-outside-dataset", ["dataset.json(8,45): error FCT0021: /conversations/1: the pattern '../FCT0010-invalid-arguments/conversations/*.json' reaches outside the dataset folder"] },
        { "FCT1001-function-never-called", ["functions/get_weather.json(3,11): warning FCT1001: /name: 'get_weather' is never called by any conversation of this dataset"] },
        { "FCT1002-no-assistant-turn", ["conversations/c2.json(5,15): warning FCT1002: /messages: the conversation has no assistant turn"] },
        { "FCT1003-glob-matches-nothing", ["dataset.json(8,45): warning FCT1003: /conversations/1: the pattern 'dialogs/*.jsonl' matches no file."] },
        {
            // Problems in four files of one dataset, all in one run, in file order.
            "many-errors", [
                "conversations/a.json(4,3): error FCT0001: malformed JSON",
                "conversations/b.json(6,23): error FCT0005: /messages/0/contnet: unknown property 'contnet'",
                "conversations/c.json(7,69): error FCT0008: /messages/1/tool_calls/0/name: calls 'get_wether', which this conversation does not offer (did you mean 'get_weather'?);",
                // An unknown property does not hide the other problems of its conversation.
                "conversations/d.json(6,23): error FCT0005: /messages/0/contnet: unknown property 'contnet'",
                "conversations/d.json(7,107): error FCT0010: /messages/1/tool_calls/0/arguments/city: the arguments do not match the parameters of 'get_weather' (validation/many-errors/functions/get_weather.json): Value should be at least 2 characters."]
        },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void Fixture_produces_exactly_its_diagnostics(string fixture, string[] expected)
    {
        var result = DatasetLoader.Load(RepoPaths.TestData, [$"validation/{fixture}"]);

        var lines = result.Diagnostics.Select(d => d.ToString()).ToList();
        Assert.True(expected.Length == lines.Count, string.Join("\n", lines));
        for (int i = 0; i < expected.Length; i++)
            Assert.StartsWith($"validation/{fixture}/{expected[i]}", lines[i]);
    }

    [Fact]
    public void Record_over_the_size_limit_is_rejected_by_line()
    {
        var result = DatasetLoader.Load(RepoPaths.TestData, ["validation/FCT0003-too-large"], new LoadOptions { MaxRecordBytes = 400 });

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal(("validation/FCT0003-too-large/conversations/c1.json", 1, 1, Severity.Error, "FCT0003"), (d.File, d.Line, d.Column, d.Severity, d.Code));
        Assert.Contains("636 bytes, over the limit of 400", d.Message);
    }

    [Fact]
    public void File_over_the_size_limit_is_rejected_unread()
    {
        var result = DatasetLoader.Load(RepoPaths.TestData, ["validation/FCT0003-too-large"], new LoadOptions { MaxFileBytes = 400 });

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("validation/FCT0003-too-large/conversations/c1.json: error FCT0003: file is 636 bytes, over the limit of 400: "
            + "split it into several files (a *.jsonl file can hold many conversations).", d.ToString());
    }

    [Fact]
    public void Missing_path_is_reported_without_a_position()
    {
        var result = DatasetLoader.Load(RepoPaths.TestData, ["validation/no-such-dataset"]);

        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("validation/no-such-dataset: error FCT0017: no such file or folder. Check the path (relative paths are taken from the repository root).", d.ToString());
    }

    [Fact]
    public void Every_documented_code_has_a_fixture_and_every_fixture_code_is_documented()
    {
        string docs = File.ReadAllText(Path.Combine(RepoPaths.Root, "docs", "diagnostics.md"));
        var documented = System.Text.RegularExpressions.Regex.Matches(docs, @"^\| (FCT[01]0\d\d) \|", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToHashSet();
        var codes = typeof(FcTrain.Validation.DiagnosticCodes).GetFields().Select(f => (string)f.GetValue(null)!).ToHashSet();
        var fixtures = Directory.GetDirectories(Path.Combine(RepoPaths.TestData, "validation")).Select(d => Path.GetFileName(d)[..7]).ToHashSet();
        fixtures.Add("FCT0017"); // a path that does not exist needs no fixture folder
        fixtures.Add("FCT0022"); // symbolic links are made at run time (Data/DatasetLayoutTests)

        Assert.Equal(codes.Order(), documented.Where(c => c.StartsWith("FCT00") || c.StartsWith("FCT10")).Order());
        Assert.Empty(codes.Except(fixtures));
    }

    [Fact]
    public void Validation_never_modifies_files()
    {
        string folder = Path.Combine(RepoPaths.TestData, "validation", "many-errors");
        var before = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).ToDictionary(f => f, f => (File.ReadAllBytes(f), File.GetLastWriteTimeUtc(f)));

        DatasetLoader.Load(RepoPaths.TestData, ["validation/many-errors"]);

        var after = Directory.GetFiles(folder, "*", SearchOption.AllDirectories);
        Assert.Equal(before.Keys.Order(), after.Order());
        foreach (string f in after)
        {
            Assert.Equal(before[f].Item1, File.ReadAllBytes(f));
            Assert.Equal(before[f].Item2, File.GetLastWriteTimeUtc(f));
        }
    }
}
