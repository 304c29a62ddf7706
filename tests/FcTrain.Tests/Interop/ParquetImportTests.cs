using System.Text.Json.Serialization;
using FcTrain.Data;
using FcTrain.Interop;
using Parquet.Serialization;

namespace FcTrain.Tests.Interop;

public class ParquetImportTests
{
    public sealed class Turn
    {
        [JsonPropertyName("from")] public string From { get; set; } = "";
        [JsonPropertyName("value")] public string Value { get; set; } = "";
    }

    public sealed class HermesRow
    {
        [JsonPropertyName("id")] public string Id { get; set; } = "";
        [JsonPropertyName("conversations")] public List<Turn> Conversations { get; set; } = [];
    }

    private const string System = "Tools: <tools> [{'type': 'function', 'function': {'name': 'get_time', 'description': 'The time in a city.', 'parameters': {'type': 'object', 'properties': {'city': {'type': 'string'}}, 'required': ['city']}}}] </tools>";

    private static HermesRow Row(int i) => new()
    {
        Id = $"row-{i}",
        Conversations =
        [
            new() { From = "system", Value = System },
            new() { From = "human", Value = $"Time in city {i}?" },
            new() { From = "gpt", Value = $"<tool_call>\n{{'name': 'get_time', 'arguments': {{'city': 'C{i}'}}}}\n</tool_call>" },
        ],
    };

    [Fact]
    public async Task Hermes_parquet_with_nested_turns_imports_row_by_row()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("hermes.parquet", "");
        await ParquetSerializer.SerializeAsync(Enumerable.Range(0, 3).Select(Row), input);

        var (summary, diagnostics, _) = workspace.Import(null, false, input);

        Assert.Empty(diagnostics);
        Assert.Equal((ImportFormat.Hermes, 3L), (summary.Format, summary.Imported));
        var conversations = workspace.Load().Conversations.Select(c => c.Conversation).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
        Assert.Equal(["row-0", "row-1", "row-2"], conversations.Select(c => c.Id));
        Assert.Equal("C2", (string?)conversations[2].Messages[1].ToolCalls![0].Arguments["city"]);
        Assert.Equal(Role.User, conversations[0].Messages[0].Role);
    }

    [Fact]
    public async Task Parquet_with_unexpected_columns_names_the_columns_it_expected()
    {
        using var workspace = new ImportWorkspace();
        string input = workspace.Write("other.parquet", "");
        await ParquetSerializer.SerializeAsync(Enumerable.Range(0, 2).Select(Row), input);

        var (summary, diagnostics, _) = workspace.Import(ImportFormat.Xlam, false, input);

        Assert.Equal("in/other.parquet: error FCT0602: unexpected columns: expected query, tools, answers, found id, conversations. Choose the right --format, or rename the columns.",
            Assert.Single(diagnostics).ToString());
        Assert.False(summary.Written);
    }
}
