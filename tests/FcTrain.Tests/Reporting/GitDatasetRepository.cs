using System.Text.Json.Nodes;

namespace FcTrain.Tests.Reporting;

/// <summary>
/// A real git repository in a temporary folder holding one small dataset, <c>datasets/d</c>, built so that each
/// category has known conversations: two functions, <c>get_weather(city, units?)</c> and <c>get_time(zone)</c>,
/// and five conversations (two held out). Tests edit files and commit with <see cref="Commit"/>. The workspace is the
/// repository's root, or a folder inside it (<paramref name="subfolder"/>), as in a monorepo.
/// </summary>
internal sealed class GitDatasetRepository : IDisposable
{
    public const string Dataset = "datasets/d";

    /// <summary>The workspace (where fctrain.json is).</summary>
    public string Root { get; }

    /// <summary>The git repository's root.</summary>
    public string GitRoot { get; } = Directory.CreateTempSubdirectory("fctrain-git-").FullName;

    public GitDatasetRepository(string subfolder = "")
    {
        Root = Path.Combine(GitRoot, subfolder);
        Directory.CreateDirectory(Root);
        Git("init", "-q", "-b", "main");
        File.WriteAllText(Path.Combine(Root, "fctrain.json"), "{}\n");
        WriteManifest("1.0.0");
        WriteFunction("get_weather", "Current weather in a city.", WeatherParameters);
        WriteFunction("get_time", "Local time in a time zone.", """{ "type": "object", "properties": { "zone": { "type": "string" } }, "required": ["zone"], "additionalProperties": false }""");
        // simple (one call, one function offered) + answer
        WriteConversation("c-simple", ["get_weather"], Calls(("get_weather", """{ "city": "Oslo" }""")));
        // multiple (one call, two offered) + answer
        WriteConversation("c-multiple", ["get_weather", "get_time"], Calls(("get_time", """{ "zone": "Europe/Oslo" }""")));
        // parallel (two calls, one function offered) + answer
        WriteConversation("c-parallel", ["get_weather"], Calls(("get_weather", """{ "city": "Oslo" }"""), ("get_weather", """{ "city": "Lima", "units": "metric" }""")));
        // parallel_multiple (two calls, two offered) + answer; held out
        WriteConversation("c-pm", ["get_weather", "get_time"], Calls(("get_weather", """{ "city": "Quito" }"""), ("get_time", """{ "zone": "America/Guayaquil" }""")));
        // irrelevance (no call where none fits); held out
        WriteConversation("c-irrelevance", ["get_weather", "get_time"], """
            [ { "role": "user", "content": "Sing me a song." }, { "role": "assistant", "content": "I can only tell the weather and the time." } ]
            """);
        Commit("base");
    }

    public const string WeatherParameters = """
        { "type": "object", "properties": { "city": { "type": "string" }, "units": { "enum": ["metric", "imperial"] } }, "required": ["city"], "additionalProperties": false }
        """;

    public string ManifestPath => Path.Combine(Root, Dataset, "dataset.json");

    public void WriteManifest(string version, string evalIds = """["c-pm", "c-irrelevance"]""") => Write($"{Dataset}/dataset.json", $$"""
        {
          "$schema": "../../schemas/dataset.v1.schema.json",
          "name": "d",
          "version": "{{version}}",
          "description": "Weather and time.",
          "license": "Apache-2.0",
          "functions": ["functions/*.json"],
          "conversations": ["conversations/*.json"],
          "split": { "eval_ids": {{evalIds}} }
        }
        """);

    public void WriteFunction(string name, string description, string parameters) => Write($"{Dataset}/functions/{name}.json", $$"""
        {
          "$schema": "../../../schemas/function.v1.schema.json",
          "name": "{{name}}",
          "description": "{{description}}",
          "parameters": {{parameters}}
        }
        """);

    public void WriteConversation(string id, string[] functions, string messages) => Write($"{Dataset}/conversations/{id}.json", $$"""
        {
          "$schema": "../../../schemas/conversation.v1.schema.json",
          "id": "{{id}}",
          "functions": [{{string.Join(", ", functions.Select(f => $"\"{f}\""))}}],
          "messages": {{messages}}
        }
        """);

    /// <summary>A user turn, an assistant turn making <paramref name="calls"/> in parallel, their results, an answer.</summary>
    public static string Calls(params (string Name, string Arguments)[] calls)
    {
        var messages = new JsonArray { new JsonObject { ["role"] = "user", ["content"] = "Please look it up." } };
        messages.Add(new JsonObject
        {
            ["role"] = "assistant",
            ["tool_calls"] = new JsonArray(calls.Select((c, i) => (JsonNode?)new JsonObject
            {
                ["id"] = $"call_{i + 1}", ["name"] = c.Name, ["arguments"] = JsonNode.Parse(c.Arguments),
            }).ToArray()),
        });
        for (int i = 0; i < calls.Length; i++)
            messages.Add(new JsonObject { ["role"] = "tool", ["tool_call_id"] = $"call_{i + 1}", ["name"] = calls[i].Name, ["content"] = "ok" });
        messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = "Done." });
        return messages.ToJsonString();
    }

    public string Write(string relative, string text)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Delete(string relative) => File.Delete(Path.Combine(Root, relative));

    public void Commit(string message)
    {
        Git("add", "-A");
        Git("-c", "user.name=fctrain-tests", "-c", "user.email=tests@fctrain.local", "commit", "-q", "-m", message);
    }

    public string Git(params string[] args)
    {
        var (exit, stdout, stderr) = CliRunner.RunProgram("git", args, GitRoot);
        if (exit != 0) throw new InvalidOperationException($"git {string.Join(' ', args)}: {stderr}");
        return stdout.Trim();
    }

    /// <summary>The 1-based line and column of the value of <c>"version"</c> in dataset.json, found in its text.</summary>
    public (int Line, int Column) VersionPosition()
    {
        var lines = File.ReadAllLines(ManifestPath);
        int line = Array.FindIndex(lines, l => l.Contains("\"version\"", StringComparison.Ordinal));
        return (line + 1, lines[line].IndexOf('"', lines[line].IndexOf(':')) + 1);
    }

    public void Dispose()
    {
        try { Directory.Delete(GitRoot, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
