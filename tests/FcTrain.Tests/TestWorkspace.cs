using System.Text.Json.Nodes;

namespace FcTrain.Tests;

/// <summary>
/// A workspace built in a temporary folder for one test: a dataset written here (not the repository's samples,
/// which may grow), <c>schemas/</c> copied so <c>$schema</c> paths resolve, and an optional <c>fctrain.json</c>.
/// </summary>
internal sealed class TestWorkspace : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("fctrain-ws-").FullName;

    public TestWorkspace(string? settings = null)
    {
        foreach (string file in Directory.EnumerateFiles(Path.Combine(RepoPaths.Root, "schemas"), "*.schema.json"))
            Copy(file, Path.Combine(Root, "schemas", Path.GetFileName(file)));
        if (settings is not null) File.WriteAllText(Path.Combine(Root, "fctrain.json"), settings);
    }

    /// <summary>
    /// Writes dataset <paramref name="name"/> with one function, <c>get_weather(city)</c>, and
    /// <paramref name="conversations"/> conversations (the first <paramref name="eval"/> held out), each a user
    /// question, a call, the tool's result and an answer.
    /// </summary>
    public string AddDataset(string name, int conversations, int eval = 0, string toolTokens = "reserved")
    {
        string folder = Path.Combine(Root, "datasets", name);
        Write(Path.Combine(folder, "dataset.json"), new JsonObject
        {
            ["$schema"] = "../../schemas/dataset.v1.schema.json",
            ["name"] = name,
            ["version"] = "1.0.0",
            ["description"] = "Written by a test.",
            ["license"] = "Apache-2.0",
            ["functions"] = new JsonArray("functions/*.json"),
            ["conversations"] = new JsonArray("conversations/*.json"),
            ["split"] = new JsonObject { ["eval_ids"] = new JsonArray([.. Enumerable.Range(1, eval).Select(i => (JsonNode?)Id(name, i))]) },
            ["template"] = new JsonObject { ["name"] = "course", ["serialization"] = "json", ["tool_tokens"] = toolTokens, ["train_on"] = "assistant" },
        });
        Write(Path.Combine(folder, "functions", "get_weather.json"), JsonNode.Parse("""
            {
              "$schema": "../../../schemas/function.v1.schema.json",
              "name": "get_weather",
              "description": "Current weather in a city.",
              "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"], "additionalProperties": false }
            }
            """)!);
        string[] cities = ["Dublin", "Lisbon", "Oslo", "Quito", "Hanoi", "Perth", "Cusco", "Tunis"];
        for (int i = 1; i <= conversations; i++)
        {
            string city = cities[(i - 1) % cities.Length];
            Write(Path.Combine(folder, "conversations", Id(name, i) + ".json"), JsonNode.Parse($$"""
                {
                  "$schema": "../../../schemas/conversation.v1.schema.json",
                  "id": "{{Id(name, i)}}",
                  "functions": ["get_weather"],
                  "tags": ["single", "answer"],
                  "messages": [
                    { "role": "user", "content": "What's the weather in {{city}}?" },
                    { "role": "assistant", "tool_calls": [{ "id": "call_1", "name": "get_weather", "arguments": { "city": "{{city}}" } }] },
                    { "role": "tool", "tool_call_id": "call_1", "name": "get_weather", "content": { "temperature": {{10 + i}}, "sky": "clear" } },
                    { "role": "assistant", "content": "It is {{10 + i}} degrees and clear in {{city}}." }
                  ]
                }
                """)!);
        }
        return folder;
    }

    public static string Id(string dataset, int i) => $"{dataset}-{i:000}";

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private static void Write(string path, JsonNode json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, json.ToJsonString(new() { WriteIndented = true }) + "\n");
    }

    private static void Copy(string from, string to)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(to)!);
        File.Copy(from, to);
    }
}
