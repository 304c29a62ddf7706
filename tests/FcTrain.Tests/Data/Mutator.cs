using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FcTrain.Tests.Data;

/// <summary>One random change to a JSON file's bytes, of a given kind, driven by a seeded <see cref="Random"/>.</summary>
internal static class Mutator
{
    private const string Hole = "@@FCTRAIN-HOLE@@";

    private static readonly string[] Names =
        ["byte flip", "truncation", "deleted key", "duplicated key", "type swap", "deep nesting", "huge number", "huge string", "lone surrogate", "hostile schema", "empty document"];

    private static readonly string[] OtherTypes = ["0", "-1", "1.5", "\"\"", "\"x\"", "true", "null", "[]", "{}", "[1]", "{\"a\": 1}"];
    private static readonly string[] HugeNumbers = ["1e400", "-1e400", "1e308", "99999999999999999999999999999", "1e-400", "-0", "2147483648", "9223372036854775808", "123456789e999"];
    private static readonly string[] Surrogates = ["\"\\ud800\"", "\"a\\udc00b\"", "\"\\ud83d\"", "\"\\udfff\\ud800\""];
    private static readonly string[] HostileSchemas =
    [
        """{"$ref": "#"}""", """{"$ref": "https://example.com/s.json"}""", """{"$ref": "file:///etc/passwd"}""", """{"$ref": "../../x.json"}""",
        """{"type": "string", "pattern": "^(a|aa)+$"}""", """{"pattern": "(unclosed"}""", """{"$id": "https://example.com/x", "$ref": "y.json"}""",
        """{"allOf": [{"$ref": "#"}]}""", """{"$schema": "https://example.com/meta"}""", """{"$dynamicRef": "#x"}""",
    ];

    public static int Kinds => Names.Length;

    public static string Name(int kind) => Names[kind];

    /// <summary>Mutates one random line of a JSONL file.</summary>
    public static byte[] ApplyToLine(byte[] original, int kind, Random random)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < original.Length; i++)
            if (original[i] == (byte)'\n') starts.Add(i + 1);
        int line = random.Next(starts.Count);
        int start = starts[line], end = line + 1 < starts.Count ? starts[line + 1] - 1 : original.Length;
        return [.. original[..start], .. Apply(original[start..end], kind, random), .. original[end..]];
    }

    public static byte[] Apply(byte[] original, int kind, Random random)
    {
        switch (kind)
        {
            case 0:
                var flipped = (byte[])original.Clone();
                for (int i = random.Next(1, 4); i > 0 && flipped.Length > 0; i--) flipped[random.Next(flipped.Length)] = (byte)random.Next(256);
                return flipped;
            case 1:
                return original[..random.Next(original.Length)];
            case 10:
                return Encoding.UTF8.GetBytes(new[] { "", "\uFEFF", "null", "[]", "   ", "\"text\"" }[random.Next(6)]);
        }
        JsonNode? root;
        try { root = JsonNode.Parse(original); }
        catch (JsonException) { return original; }
        if (root is null) return original;
        var nodes = Descendants(root).ToList();
        switch (kind)
        {
            case 2:
                if (Pick(nodes.OfType<JsonObject>().Where(o => o.Count > 0), random) is { } withKey)
                    withKey.Remove(withKey.ElementAt(random.Next(withKey.Count)).Key);
                return Encoding.UTF8.GetBytes(root.ToJsonString());
            case 3:
                if (Pick(nodes.OfType<JsonObject>().Where(o => o.Count > 0), random) is not { } duplicated) return original;
                string key = JsonSerializer.Serialize(duplicated.ElementAt(random.Next(duplicated.Count)).Key);
                string text = root.ToJsonString();
                int at = text.IndexOf(key + ":", StringComparison.Ordinal);
                return Encoding.UTF8.GetBytes(at < 0 ? text : text.Insert(at, $"{key}: {OtherTypes[random.Next(OtherTypes.Length)]}, "));
            case 4:
                return Replace(root, nodes, random, OtherTypes[random.Next(OtherTypes.Length)]);
            case 5:
                int depth = random.Next(10, 400);
                bool arrays = random.Next(2) == 0;
                string nested = arrays ? new string('[', depth) + new string(']', depth) : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth);
                return Replace(root, nodes, random, nested);
            case 6:
                return Replace(root, nodes, random, HugeNumbers[random.Next(HugeNumbers.Length)]);
            case 7:
                int length = new[] { 1_000, 100_000, 1_100_000 }[random.Next(3)];
                return Replace(root, nodes, random, "\"" + new string((char)('a' + random.Next(26)), length) + "\"");
            case 8:
                return Replace(root, nodes, random, Surrogates[random.Next(Surrogates.Length)]);
            default:
                return Replace(root, nodes, random, HostileSchemas[random.Next(HostileSchemas.Length)]);
        }
    }

    /// <summary>Replaces a random node (not the root) by raw JSON text, which JsonNode could not always hold.</summary>
    private static byte[] Replace(JsonNode root, List<JsonNode> nodes, Random random, string raw)
    {
        var target = nodes.Count > 1 ? nodes[random.Next(1, nodes.Count)] : root;
        if (target.Parent is JsonObject o) o[target.GetPropertyName()] = Hole;
        else if (target.Parent is JsonArray a) a[target.GetElementIndex()] = Hole;
        else return Encoding.UTF8.GetBytes(raw);
        return Encoding.UTF8.GetBytes(root.ToJsonString().Replace($"\"{Hole}\"", raw));
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        IEnumerable<JsonNode?> children = node switch
        {
            JsonObject o => o.Select(p => p.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children)
            if (child is not null)
                foreach (var inner in Descendants(child)) yield return inner;
    }

    private static T? Pick<T>(IEnumerable<T> items, Random random) where T : class
    {
        var list = items.ToList();
        return list.Count == 0 ? null : list[random.Next(list.Count)];
    }
}
