using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Validation;

namespace FcTrain.Tests.Validation;

/// <summary>
/// One fixture dataset per diagnostic code (TestData/validation/&lt;case&gt;/): each triggers exactly that error,
/// at the exact line and column (computed independently when the fixtures were written).
/// </summary>
public sealed class ValidationFixtureTests
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "TestData", "validation");

    [Theory]
    [InlineData("fct0001-malformed-json", "FCT0001", "fct0001-malformed-json/conversations/c.json", 21, 11)]
    [InlineData("fct0002-invalid-utf8", "FCT0002", "fct0002-invalid-utf8/conversations/c.json", 11, 37)]
    [InlineData("fct0004-unknown-property", "FCT0004", "fct0004-unknown-property/conversations/c.json", 12, 7)]
    [InlineData("fct0005-schema-violation", "FCT0005", "fct0005-schema-violation/conversations/c.json", 14, 15)]
    [InlineData("fct0006-wrong-schema", "FCT0006", "fct0006-wrong-schema/conversations/c.json", 2, 14)]
    [InlineData("fct0007-unsupported-file", "FCT0007", "fct0007-unsupported-file/conversations/notes.txt", 0, 0)]
    [InlineData("fct0010-duplicate-conversation-id", "FCT0010", "fct0010-duplicate-conversation-id/conversations/ok2.json", 3, 9)]
    [InlineData("fct0011-duplicate-function-name", "FCT0011", "fct0011-duplicate-function-name/functions/get_weather2.json", 3, 11)]
    [InlineData("fct0012-invalid-parameters", "FCT0012", "fct0012-invalid-parameters/functions/get_weather.json", 19, 17)]
    [InlineData("fct0013-undefined-function", "FCT0013", "fct0013-undefined-function/conversations/c.json", 6, 5)]
    [InlineData("fct0014-call-not-offered", "FCT0014", "fct0014-call-not-offered/conversations/c.json", 17, 19)]
    [InlineData("fct0015-invalid-arguments", "FCT0015", "fct0015-invalid-arguments/conversations/c.json", 21, 21)]
    [InlineData("fct0016-response-without-call", "FCT0016", "fct0016-response-without-call/conversations/c.json", 34, 23)]
    [InlineData("fct0017-call-without-response", "FCT0017", "fct0017-call-without-response/conversations/c.json", 16, 9)]
    [InlineData("fct0018-role-order", "FCT0018", "fct0018-role-order/conversations/c.json", 14, 15)]
    [InlineData("fct0019-ambiguous-response", "FCT0019", "fct0019-ambiguous-response/conversations/c.json", 28, 15)]
    [InlineData("fct0020-field-not-allowed", "FCT0020", "fct0020-field-not-allowed/conversations/c.json", 12, 7)]
    [InlineData("fct0021-missing-content", "FCT0021", "fct0021-missing-content/conversations/c.json", 11, 18)]
    [InlineData("fct0022-duplicate-call-id", "FCT0022", "fct0022-duplicate-call-id/conversations/c.json", 44, 17)]
    [InlineData("fct0023-unknown-eval-id", "FCT0023", "fct0023-unknown-eval-id/dataset.json", 16, 7)]
    [InlineData("jsonl-line", "FCT0015", "jsonl-line/conversations/more.jsonl", 2, 289)]
    [InlineData("fct0008-not-a-dataset", "FCT0008", "fct0008-not-a-dataset", 0, 0)]
    public void Each_error_code_is_reported_once_at_its_exact_position(string fixture, string code, string file, int line, int column)
    {
        var result = DatasetLoader.Load(Fixtures, [fixture]);

        var errors = result.Diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        var error = Assert.Single(errors);
        Assert.Equal((code, file, line, column), (error.Code, error.File, error.Line, error.Column));
        Assert.True(result.HasErrors);
    }

    [Theory]
    [InlineData("fct1001-function-never-called", "FCT1001", "fct1001-function-never-called/functions/get_time.json", 3, 11)]
    [InlineData("fct1002-no-assistant-turn", "FCT1002", "fct1002-no-assistant-turn/conversations/c.json", 8, 15)]
    [InlineData("fct1003-glob-matches-nothing", "FCT1003", "fct1003-glob-matches-nothing/dataset.json", 12, 5)]
    [InlineData("fct1004-empty-split", "FCT1004", "fct1004-empty-split/dataset.json", 13, 12)]
    public void Each_warning_code_is_reported_at_its_exact_position_without_errors(string fixture, string code, string file, int line, int column)
    {
        var result = DatasetLoader.Load(Fixtures, [fixture]);

        Assert.False(result.HasErrors, string.Join('\n', result.Diagnostics));
        var warning = Assert.Single(result.Diagnostics, d => d.Code == code);
        Assert.Equal((Severity.Warning, file, line, column), (warning.Severity, warning.File, warning.Line, warning.Column));
    }

    [Fact]
    public void Messages_name_the_json_pointer_and_say_what_to_do()
    {
        var result = DatasetLoader.Load(Fixtures, ["fct0015-invalid-arguments"]);

        var error = Assert.Single(result.Diagnostics, d => d.Severity == Severity.Error);
        Assert.StartsWith("/messages/1/tool_calls/0/arguments/unit: ", error.Message);
        Assert.Contains("\"celsius\", \"fahrenheit\"", error.Message);
        Assert.Equal(
            "fct0015-invalid-arguments/conversations/c.json(21,21): error FCT0015: " + error.Message,
            error.ToString());
    }

    [Fact]
    public void An_unknown_property_suggests_the_closest_allowed_name()
    {
        var result = DatasetLoader.Load(Fixtures, ["fct0004-unknown-property"]);

        var error = Assert.Single(result.Diagnostics, d => d.Code == DiagnosticCodes.UnknownProperty);
        Assert.Contains("unknown property 'contnet' (did you mean 'content'?)", error.Message);
    }

    [Fact]
    public void A_file_over_the_size_limit_is_refused_before_it_is_read()
    {
        string repo = Directory.CreateTempSubdirectory("fctrain-size-").FullName;
        try
        {
            CopyDirectory(Path.Combine(Fixtures, "fct1004-empty-split"), Path.Combine(repo, "big"));
            using (var stream = File.Create(Path.Combine(repo, "big", "conversations", "huge.json")))
                stream.SetLength(JsonReading.MaxFileBytes + 1);

            var result = DatasetLoader.Load(repo, ["big"]);

            var error = Assert.Single(result.Diagnostics, d => d.Severity == Severity.Error);
            Assert.Equal((DiagnosticCodes.FileTooLarge, "big/conversations/huge.json", 0, 0), (error.Code, error.File, error.Line, error.Column));
            Assert.Equal("big/conversations/huge.json: error FCT0003: " + error.Message, error.ToString());
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    [Fact]
    public void All_problems_of_all_files_are_reported_in_one_run()
    {
        string[] fixtures = ["fct0001-malformed-json", "fct0004-unknown-property", "fct0012-invalid-parameters", "fct0016-response-without-call", "fct0023-unknown-eval-id"];

        var result = DatasetLoader.Load(Fixtures, fixtures);

        var codes = result.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.Code).ToList();
        Assert.Equal(["FCT0001", "FCT0004", "FCT0012", "FCT0016", "FCT0023"], codes);
        Assert.Equal(fixtures.Length, result.Datasets.Count);
    }

    [Fact]
    public void Several_problems_of_one_conversation_are_all_reported()
    {
        string repo = Directory.CreateTempSubdirectory("fctrain-many-").FullName;
        try
        {
            CopyDirectory(Path.Combine(Fixtures, "fct1004-empty-split"), Path.Combine(repo, "d"));
            File.WriteAllText(Path.Combine(repo, "d", "conversations", "bad.json"), """
                {
                  "id": "bad",
                  "functions": ["get_weather"],
                  "colour": "blue",
                  "messages": [
                    {"role": "user", "content": "Weather?"},
                    {"role": "assistant", "tool_calls": [{"id": "a", "name": "get_weather", "arguments": {"unit": "kelvin"}}]},
                    {"role": "user", "content": "Hello?"},
                    {"role": "user", "content": "Anyone?"}
                  ]
                }
                """);

            var result = DatasetLoader.Load(repo, ["d"]);

            Assert.Equal(
                ["d/conversations/bad.json(1,1): error FCT0006",
                 "d/conversations/bad.json(4,3): error FCT0004",
                 "d/conversations/bad.json(7,42): error FCT0017",   // the call, unanswered before the next user turn
                 "d/conversations/bad.json(7,90): error FCT0015",   // the arguments object lacks "location"
                 "d/conversations/bad.json(7,99): error FCT0015",   // "kelvin" is not in the enum
                 "d/conversations/bad.json(9,14): error FCT0018"],  // two user turns in a row
                result.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => $"{d.File}({d.Line},{d.Column}): error {d.Code}"));
        }
        finally
        {
            Directory.Delete(repo, recursive: true);
        }
    }

    internal static void CopyDirectory(string from, string to)
    {
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
