using System.Text.Json.Nodes;
using FcTrain.Data;

namespace FcTrain.Tests.Templates;

/// <summary>The sample conversations of TestData/templates (one of every kind), read into the data model.</summary>
public static class TemplateSamples
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "TestData", "templates");

    public static IReadOnlyList<FunctionDefinition> Functions { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "functions.json")))!.AsArray()
            .Select(f => new FunctionDefinition((string)f!["name"]!, (string)f["description"]!, f["parameters"]!.AsObject().DeepClone().AsObject(), new SourceSpan("functions.json")))
            .ToList();

    public static IReadOnlyList<Conversation> Conversations { get; } =
        JsonNode.Parse(File.ReadAllText(Path.Combine(Folder, "conversations.json")))!.AsArray()
            .Select((c, i) => new Conversation(
                (string)c!["id"]!,
                c["functions"]!.AsArray().Select(n => (string)n!).ToList(),
                c["messages"]!.AsArray().Select(m => ReadMessage(m!.AsObject())).ToList(),
                new SourceSpan("conversations.json", i + 1)))
            .ToList();

    public static Conversation Get(string id) => Conversations.Single(c => c.Id == id);

    private static Message ReadMessage(JsonObject m) => new(
        Enum.Parse<Role>((string)m["role"]!, ignoreCase: true),
        m["content"]?.DeepClone(),
        (string?)m["thinking"],
        m["tool_calls"]?.AsArray().Select(t => new ToolCall((string?)t!["id"], (string)t["name"]!, t["arguments"]!.DeepClone().AsObject())).ToList(),
        (string?)m["tool_call_id"],
        (string?)m["name"]);
}
