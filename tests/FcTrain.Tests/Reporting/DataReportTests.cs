using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Evaluation;
using FcTrain.Interop;
using FcTrain.Reporting;
using FcTrain.Tokenization;

namespace FcTrain.Tests.Reporting;

/// <summary>The report and the version rules on a real git repository with a small dataset of known shape.</summary>
public sealed class DataReportTests : IDisposable
{
    private readonly GitDatasetRepository _repo = new();

    public void Dispose() => _repo.Dispose();

    private LoadResult Load() => DatasetLoader.Load(_repo.Root, []);

    private DataReport Report(string? baseRevision = "main")
    {
        var loaded = Load();
        var before = baseRevision is null ? null : BaseRevision.Load(_repo.Root, baseRevision, [], loaded.Datasets);
        return DataReport.Create(_repo.Root, loaded, "tiny", before);
    }

    [Fact]
    public void Categories_follow_the_calls_and_offered_functions_of_each_assistant_turn()
    {
        var d = Assert.Single(Report(baseRevision: null).Datasets);

        // By construction of the fixture: (train conversations, eval conversations, assistant turns).
        var expected = new Dictionary<CaseCategory, (int, int, int)>
        {
            [CaseCategory.Simple] = (1, 0, 1),
            [CaseCategory.Multiple] = (1, 0, 1),
            [CaseCategory.Parallel] = (1, 0, 1),
            [CaseCategory.ParallelMultiple] = (0, 1, 1),
            [CaseCategory.Irrelevance] = (0, 1, 1),
            [CaseCategory.Answer] = (3, 1, 4),
        };
        Assert.Equal(expected, d.Categories.ToDictionary(c => c.Category, c => (c.TrainConversations, c.EvalConversations, c.Turns)));
        Assert.Equal((3, 2), (d.Train.Conversations, d.Eval.Conversations));
    }

    [Fact]
    public void Function_calls_equal_a_count_over_the_files_themselves()
    {
        var d = Assert.Single(Report(baseRevision: null).Datasets);

        // Independently: every tool call in the conversation files as JSON, split by the manifest's eval_ids.
        var eval = new[] { "c-pm", "c-irrelevance" };
        var calls = Directory.EnumerateFiles(Path.Combine(_repo.Root, GitDatasetRepository.Dataset, "conversations"))
            .Select(f => JsonNode.Parse(File.ReadAllText(f))!)
            .SelectMany(c => c["messages"]!.AsArray().SelectMany(m => m!["tool_calls"]?.AsArray() ?? [])
                .Select(call => (Name: call!["name"]!.GetValue<string>(), Eval: eval.Contains(c["id"]!.GetValue<string>()))))
            .ToList();
        var counted = calls.GroupBy(c => c.Name).ToDictionary(g => g.Key, g => (g.Count(c => !c.Eval), g.Count(c => c.Eval)));

        Assert.Equal(counted, d.Functions.ToDictionary(f => f.Name, f => (f.Train, f.Eval)));
        Assert.Equal((3, 1), counted["get_weather"]);
    }

    [Fact]
    public void Tokens_and_trained_tokens_equal_the_tokenized_export_of_each_split()
    {
        var d = Assert.Single(Report(baseRevision: null).Datasets);

        var dataset = Assert.Single(Load().Datasets);
        var rows = dataset.Conversations.Select(c => (c.Split, Row: Exporter.Tokenized(c.Conversation, dataset, GemmaTokenizer.Embedded()))).ToList();
        (long Tokens, long Trained) Sum(Split split) => (
            rows.Where(r => r.Split == split).Sum(r => (long)r.Row["input_ids"]!.AsArray().Count),
            rows.Where(r => r.Split == split).Sum(r => (long)r.Row["labels"]!.AsArray().Count(l => l!.GetValue<int>() != -100)));

        Assert.Equal(Sum(Split.Train), (d.Train.Tokens, d.Train.TrainedTokens));
        Assert.Equal(Sum(Split.Eval), (d.Eval.Tokens, d.Eval.TrainedTokens));
        Assert.True(d.Train.TrainedTokens > 0 && d.Train.TrainedTokens < d.Train.Tokens);
    }

    [Fact]
    public void Conversations_are_compared_by_content_not_by_bytes()
    {
        // Added, removed, changed; and one rewritten with other key order and spacing only.
        _repo.WriteConversation("c-new", ["get_time"], GitDatasetRepository.Calls(("get_time", """{ "zone": "Asia/Tokyo" }""")));
        _repo.Delete($"{GitDatasetRepository.Dataset}/conversations/c-parallel.json");
        _repo.WriteConversation("c-simple", ["get_weather"], GitDatasetRepository.Calls(("get_weather", """{ "city": "Bergen" }""")));
        string multiple = Path.Combine(_repo.Root, GitDatasetRepository.Dataset, "conversations/c-multiple.json");
        var reordered = new JsonObject(JsonNode.Parse(File.ReadAllText(multiple))!.AsObject().Reverse().Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        File.WriteAllText(multiple, reordered.ToJsonString());
        _repo.WriteManifest("1.1.0");

        var changes = Assert.Single(Report().Datasets).Changes!;

        Assert.Equal(["c-new"], changes.ConversationsAdded);
        Assert.Equal(["c-parallel"], changes.ConversationsRemoved);
        Assert.Equal(["c-simple"], changes.ConversationsChanged);
        Assert.Empty(changes.Functions);
        Assert.Equal(("1.0.0", "1.1.0"), (changes.BaseVersion, changes.Version));
        Assert.Empty(Report().Diagnostics);
    }

    [Fact]
    public void A_reformatted_dataset_is_unchanged_and_needs_no_new_version()
    {
        foreach (string file in Directory.EnumerateFiles(Path.Combine(_repo.Root, GitDatasetRepository.Dataset), "*.json", SearchOption.AllDirectories))
            File.WriteAllText(file, JsonNode.Parse(File.ReadAllText(file))!.ToJsonString(new() { WriteIndented = true }) + "\n");
        Assert.NotEmpty(_repo.Git("status", "--porcelain"));

        var report = Report();

        Assert.False(Assert.Single(report.Datasets).Changes!.HasChanges);
        Assert.Empty(report.Diagnostics);
    }

    [Fact]
    public void Changed_data_without_a_new_version_is_an_error_at_the_version_in_dataset_json()
    {
        _repo.WriteConversation("c-new", ["get_time"], GitDatasetRepository.Calls(("get_time", """{ "zone": "Asia/Tokyo" }""")));

        var diagnostic = Assert.Single(Report().Diagnostics);

        var (line, column) = _repo.VersionPosition();
        Assert.Equal(("datasets/d/dataset.json", line, column), (diagnostic.File, diagnostic.Line, diagnostic.Column));
        Assert.Equal((Severity.Error, VersionRules.VersionNotRaised), (diagnostic.Severity, diagnostic.Code));
        Assert.Contains("is still 1.0.0", diagnostic.Message);
        Assert.Contains("1 added", diagnostic.Message);
    }

    [Fact]
    public void A_lower_version_is_an_error_too()
    {
        _repo.WriteManifest("1.0.0", evalIds: """["c-pm"]""");
        _repo.Commit("hold out less");
        _repo.WriteManifest("0.9.0");   // eval_ids back as they were: a change of the split

        var diagnostic = Assert.Single(Report().Diagnostics);

        Assert.Equal(VersionRules.VersionNotRaised, diagnostic.Code);
        Assert.Contains("went down from 1.0.0 to 0.9.0", diagnostic.Message);
        Assert.Contains("dataset.json: split", diagnostic.Message);
    }

    [Fact]
    public void A_breaking_schema_change_with_a_minor_version_is_a_warning_naming_the_calls_that_break()
    {
        // units becomes required and loses "imperial": the base's calls without units break; the current ones pass.
        _repo.WriteFunction("get_weather", "Current weather in a city.",
            """{ "type": "object", "properties": { "city": { "type": "string" }, "units": { "enum": ["metric"] } }, "required": ["city", "units"], "additionalProperties": false }""");
        _repo.WriteConversation("c-simple", ["get_weather"], GitDatasetRepository.Calls(("get_weather", """{ "city": "Oslo", "units": "metric" }""")));
        _repo.WriteConversation("c-parallel", ["get_weather"], GitDatasetRepository.Calls(("get_weather", """{ "city": "Oslo", "units": "metric" }"""), ("get_weather", """{ "city": "Lima", "units": "metric" }""")));
        _repo.WriteConversation("c-pm", ["get_weather", "get_time"], GitDatasetRepository.Calls(("get_weather", """{ "city": "Quito", "units": "metric" }"""), ("get_time", """{ "zone": "America/Guayaquil" }""")));
        _repo.WriteManifest("1.1.0");

        var report = Report();

        var diagnostic = Assert.Single(report.Diagnostics);
        Assert.Equal((Severity.Warning, VersionRules.BreakingWithoutMajor, "datasets/d/functions/get_weather.json"), (diagnostic.Severity, diagnostic.Code, diagnostic.File));
        Assert.Equal(5, diagnostic.Line);   // "parameters" is on line 5 of the function file
        var function = Assert.Single(Assert.Single(report.Datasets).Changes!.Functions);
        Assert.True(function.Breaking);
        // c-simple, c-pm and the first call of c-parallel lacked units; the second call of c-parallel had it.
        Assert.Equal(["c-parallel /messages/1/tool_calls/0/arguments", "c-pm /messages/1/tool_calls/0/arguments", "c-simple /messages/1/tool_calls/0/arguments"],
            function.BrokenCalls.Select(b => $"{b.ConversationId} {b.Pointer}").Order(StringComparer.Ordinal));
        Assert.Contains("c-simple /messages/1/tool_calls/0/arguments", diagnostic.Message);
        Assert.Contains("2.0.0", diagnostic.Message);

        _repo.WriteManifest("2.0.0");
        Assert.Empty(Report().Diagnostics);
    }

    [Fact]
    public void A_breaking_change_without_any_new_version_is_the_error_and_the_warning()
    {
        _repo.WriteFunction("get_time", "Local time in a time zone.", """{ "type": "object", "properties": { "tz": { "type": "string" } }, "required": ["tz"], "additionalProperties": false }""");
        _repo.WriteConversation("c-multiple", ["get_weather", "get_time"], GitDatasetRepository.Calls(("get_time", """{ "tz": "Europe/Oslo" }""")));
        _repo.WriteConversation("c-pm", ["get_weather", "get_time"], GitDatasetRepository.Calls(("get_weather", """{ "city": "Quito" }"""), ("get_time", """{ "tz": "America/Guayaquil" }""")));

        var codes = Report().Diagnostics.Select(d => (d.Code, d.Severity)).ToList();

        Assert.Equal([(VersionRules.VersionNotRaised, Severity.Error), (VersionRules.BreakingWithoutMajor, Severity.Warning)], codes);
    }

    [Fact]
    public void A_non_breaking_schema_change_is_a_change_but_not_breaking()
    {
        _repo.WriteFunction("get_weather", "Current weather in a city.",
            """{ "type": "object", "properties": { "city": { "type": "string" }, "units": { "enum": ["metric", "imperial", "kelvin"] } }, "required": ["city"], "additionalProperties": false }""");
        _repo.WriteManifest("1.0.1");

        var report = Report();

        var function = Assert.Single(Assert.Single(report.Datasets).Changes!.Functions);
        Assert.Equal((ChangeKind.Changed, false), (function.Kind, function.Breaking));
        Assert.Empty(report.Diagnostics);
    }

    [Fact]
    public void A_workspace_inside_the_repository_compares_its_own_folder()
    {
        using var repo = new GitDatasetRepository(subfolder: "teams/weather data");
        repo.WriteConversation("c-new", ["get_time"], GitDatasetRepository.Calls(("get_time", """{ "zone": "Asia/Tokyo" }""")));
        var loaded = DatasetLoader.Load(repo.Root, []);

        var report = DataReport.Create(repo.Root, loaded, "tiny", BaseRevision.Load(repo.Root, "main", [], loaded.Datasets));

        Assert.Equal(["c-new"], Assert.Single(report.Datasets).Changes!.ConversationsAdded);
        var diagnostic = Assert.Single(report.Diagnostics);
        Assert.Equal(("datasets/d/dataset.json", VersionRules.VersionNotRaised), (diagnostic.File, diagnostic.Code));
    }

    [Fact]
    public void Versions_order_by_semver_precedence()
    {
        string[] ordered = ["0.9.0", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0", "1.0.1", "1.10.0", "2.0.0"];
        var parsed = ordered.Select(v => SemanticVersion.Parse(v)!).ToList();
        for (int i = 1; i < parsed.Count; i++) Assert.True(parsed[i - 1].CompareTo(parsed[i]) < 0, $"{ordered[i - 1]} < {ordered[i]}");
        Assert.Equal(0, SemanticVersion.Parse("1.2.3+build.5")!.CompareTo(SemanticVersion.Parse("1.2.3")));
        Assert.True(SemanticVersion.Parse("2.0.0")!.IsMajorBumpOver(SemanticVersion.Parse("1.9.9")!));
        Assert.False(SemanticVersion.Parse("1.1.0")!.IsMajorBumpOver(SemanticVersion.Parse("1.0.0")!));
        Assert.True(SemanticVersion.Parse("0.3.0")!.IsMajorBumpOver(SemanticVersion.Parse("0.2.5")!));
        Assert.Null(SemanticVersion.Parse("1.0"));
    }

    [Fact]
    public void Reading_the_base_leaves_the_working_tree_index_and_head_as_they_were()
    {
        _repo.WriteConversation("c-new", ["get_time"], GitDatasetRepository.Calls(("get_time", """{ "zone": "Asia/Tokyo" }""")));
        _repo.Git("add", $"{GitDatasetRepository.Dataset}/conversations/c-new.json");
        _repo.WriteManifest("1.1.0");
        string status = _repo.Git("status", "--porcelain"), head = _repo.Git("rev-parse", "HEAD");

        var before = BaseRevision.Load(_repo.Root, "main", [], Load().Datasets);

        Assert.Equal(5, Assert.Single(before.Datasets).Conversations.Count);
        Assert.Equal(head, before.Commit);
        Assert.Equal((status, head), (_repo.Git("status", "--porcelain"), _repo.Git("rev-parse", "HEAD")));
    }
}
