using FcTrain.Data;

namespace FcTrain.Tests.Data;

/// <summary>
/// A throw-away repository in a temp folder holding one small dataset (datasets/d): a function <c>lookup</c> with a
/// string argument <c>q</c>, and one conversation calling it. Tests overwrite files to make them hostile.
/// </summary>
internal sealed class TempRepository : IDisposable
{
    public const string Manifest = """
        {
          "$schema": "../../schemas/dataset.v1.schema.json",
          "name": "d", "version": "1.0.0", "description": "Hostile input.", "license": "Apache-2.0",
          "functions": ["functions/*.json"],
          "conversations": ["conversations/*.json"],
          "split": { "eval_ids": ["c1"] }
        }
        """;

    public static string Function(string parameters) => $$"""
        {
          "$schema": "../../../schemas/function.v1.schema.json",
          "name": "lookup",
          "description": "Looks something up.",
          "parameters": {{parameters}}
        }
        """;

    public const string Parameters = """{ "type": "object", "properties": { "q": { "type": "string" } }, "required": ["q"] }""";

    public static string Conversation(string argument) => $$"""
        {
          "$schema": "../../../schemas/conversation.v1.schema.json",
          "id": "c1",
          "functions": ["lookup"],
          "messages": [
            { "role": "user", "content": "Look it up." },
            { "role": "assistant", "tool_calls": [ { "id": "call_1", "name": "lookup", "arguments": { "q": {{argument}} } } ] },
            { "role": "tool", "tool_call_id": "call_1", "name": "lookup", "content": "found" },
            { "role": "assistant", "content": "Found it." }
          ]
        }
        """;

    public TempRepository()
    {
        Root = Directory.CreateTempSubdirectory("fctrain-hostile-").FullName;
        Write("datasets/d/dataset.json", Manifest);
        Write("datasets/d/functions/lookup.json", Function(Parameters));
        Write("datasets/d/conversations/c1.json", Conversation("\"x\""));
    }

    public string Root { get; }

    public string Dataset => Path.Combine(Root, "datasets/d");

    public string Write(string relative, string text)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public LoadResult Load() => DatasetLoader.Load(Root, ["datasets/d"]);

    /// <summary>The diagnostics as printed, one string each.</summary>
    public List<string> Diagnostics() => Load().Diagnostics.Select(d => d.ToString()).ToList();

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
