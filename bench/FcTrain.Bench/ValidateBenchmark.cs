using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.IO;

namespace FcTrain.Bench;

/// <summary>
/// <c>validate [N]</c>: generates N (default 10,000) valid conversations into a temporary dataset, half as one
/// *.json file each and half in *.jsonl files, and measures the throughput of <see cref="DatasetLoader.Load"/>
/// (read, parse, schemas, argument schemas, rules, split) in conversations per second.
/// </summary>
internal static class ValidateBenchmark
{
    private const string ConversationSchema = "../../../schemas/conversation.v1.schema.json";

    public static int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 10_000;
        string root = Path.Combine(Path.GetTempPath(), $"fctrain-bench-validate-{Guid.NewGuid():N}");
        try
        {
            var generate = Stopwatch.StartNew();
            Generate(root, count);
            Console.WriteLine($"generated {count:N0} conversations in {generate.Elapsed.TotalSeconds:0.00} s under {root}");
            Console.WriteLine($"processors: {Environment.ProcessorCount}");

            // The first run includes JIT and the one-time compilation of the schemas.
            var times = new List<double>();
            for (int run = 0; run < 6; run++)
            {
                var watch = Stopwatch.StartNew();
                var result = DatasetLoader.Load(root, []);
                watch.Stop();
                if (result.Diagnostics.Count > 0 || result.ConversationCount != count)
                {
                    foreach (var d in result.Diagnostics.Take(10)) Console.Error.WriteLine(d);
                    Console.Error.WriteLine($"validate benchmark: expected {count} clean conversations, got {result.ConversationCount} and {result.Diagnostics.Count} diagnostics");
                    return 1;
                }
                times.Add(watch.Elapsed.TotalSeconds);
                Console.WriteLine($"run {run + 1}{(run == 0 ? " (cold)" : "")}: {watch.Elapsed.TotalSeconds:0.000} s, {count / watch.Elapsed.TotalSeconds:N0} conversations/s");
            }
            var warm = times.Skip(1).Order().ToList();
            double median = warm[warm.Count / 2];
            Console.WriteLine($"validate: cold {count / times[0]:N0} conversations/s; warm median {count / median:N0} conversations/s, best {count / warm[0]:N0} conversations/s");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A dataset like the samples: three functions, and conversations of every kind in rotation.</summary>
    private static void Generate(string root, int count)
    {
        string dir = Path.Combine(root, "datasets", "bench");
        AtomicFile.WriteAllText(Path.Combine(dir, "dataset.json"), Json(new JsonObject
        {
            ["$schema"] = "../../schemas/dataset.v1.schema.json",
            ["name"] = "bench", ["version"] = "1.0.0", ["description"] = "Generated for the validation benchmark.", ["license"] = "CC0-1.0",
            ["functions"] = new JsonArray("functions/*.json"), ["conversations"] = new JsonArray("conversations/*.json", "conversations/*.jsonl"),
            ["split"] = new JsonObject { ["eval_fraction"] = 0.2 },
        }));
        foreach (var function in Functions())
            AtomicFile.WriteAllText(Path.Combine(dir, "functions", $"{function["name"]}.json"), Json(function));

        var jsonl = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var conversation = Conversation(i);
            if (i % 2 == 0) AtomicFile.WriteAllText(Path.Combine(dir, "conversations", $"c{i:D6}.json"), Json(conversation));
            else jsonl.Add(conversation.ToJsonString());
        }
        for (int part = 0; part * 1000 < jsonl.Count; part++)
            AtomicFile.WriteAllText(Path.Combine(dir, "conversations", $"part{part:D3}.jsonl"), string.Join('\n', jsonl.Skip(part * 1000).Take(1000)) + "\n");
    }

    private static IEnumerable<JsonObject> Functions()
    {
        JsonObject Code() => new() { ["type"] = "string", ["pattern"] = "^[A-Z]{3}$" };
        JsonObject Date() => new() { ["type"] = "string", ["pattern"] = @"^\d{4}-\d{2}-\d{2}$" };
        JsonObject Function(string name, string description, JsonObject properties, params string[] required) => new()
        {
            ["$schema"] = "../../../schemas/function.v1.schema.json", ["name"] = name, ["description"] = description,
            ["parameters"] = new JsonObject
            {
                ["type"] = "object", ["properties"] = properties,
                ["required"] = new JsonArray(required.Select(r => (JsonNode)r!).ToArray()), ["additionalProperties"] = false,
            },
        };
        yield return Function("convert_currency", "Convert an amount of money from one currency to another.",
            new JsonObject { ["amount"] = new JsonObject { ["type"] = "number", ["exclusiveMinimum"] = 0 }, ["from"] = Code(), ["to"] = Code() }, "amount", "from", "to");
        yield return Function("search_flights", "Search one-way flights between two airports on a date.",
            new JsonObject { ["origin"] = Code(), ["destination"] = Code(), ["date"] = Date(), ["passengers"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 } }, "origin", "destination", "date");
        yield return Function("find_hotels", "Find hotels in a city for a stay.",
            new JsonObject { ["city"] = new JsonObject { ["type"] = "string" }, ["check_in"] = Date(), ["nights"] = new JsonObject { ["type"] = "integer", ["minimum"] = 1 } }, "city", "check_in", "nights");
    }

    private static readonly string[] Codes = ["EUR", "USD", "GBP", "JPY", "CHF", "LIS", "BER", "MAD", "FCO", "JFK"];

    private static JsonObject Conversation(int i)
    {
        string a = Codes[i % Codes.Length], b = Codes[(i * 7 + 3) % Codes.Length];
        string date = $"2026-{1 + i % 12:D2}-{1 + i % 28:D2}";
        JsonObject Call(string id, string name, JsonObject arguments) => new() { ["id"] = id, ["name"] = name, ["arguments"] = arguments };
        JsonObject User(string text) => new() { ["role"] = "user", ["content"] = text };
        JsonObject Tool(string id, string name, JsonObject content) => new() { ["role"] = "tool", ["tool_call_id"] = id, ["name"] = name, ["content"] = content };
        JsonObject Assistant(string? thinking, string? content, params JsonObject[] calls)
        {
            var m = new JsonObject { ["role"] = "assistant" };
            if (thinking is not null) m["thinking"] = thinking;
            if (content is not null) m["content"] = content;
            if (calls.Length > 0) m["tool_calls"] = new JsonArray(calls.Select(c => (JsonNode)c).ToArray());
            return m;
        }
        var convert = Call("call_1", "convert_currency", new JsonObject { ["amount"] = 10 + i % 990, ["from"] = a, ["to"] = b });
        var flights = Call("call_2", "search_flights", new JsonObject { ["origin"] = a, ["destination"] = b, ["date"] = date, ["passengers"] = 1 + i % 4 });
        var hotels = Call("call_1", "find_hotels", new JsonObject { ["city"] = $"City {i % 97}", ["check_in"] = date, ["nights"] = 1 + i % 9 });
        JsonArray messages = (i % 5) switch
        {
            0 => [User($"Convert {10 + i % 990} {a} to {b}."), Assistant($"Convert {a} to {b}.", null, convert)],
            1 => [User($"Hotels in City {i % 97} from {date}?"), Assistant("Hotel search.", null, hotels),
                  Tool("call_1", "find_hotels", new JsonObject { ["hotels"] = new JsonArray(new JsonObject { ["name"] = "Hotel A", ["price"] = 120 }) }),
                  Assistant(null, "Hotel A has a room at 120 per night.")],
            2 => [User($"Flights {a} to {b} on {date}, and convert 100 {a} to {b}."), Assistant("Both at once.", null, convert, flights),
                  Tool("call_1", "convert_currency", new JsonObject { ["amount"] = 93.5 }), Tool("call_2", "search_flights", new JsonObject { ["flights"] = new JsonArray() }),
                  Assistant(null, "That is 93.50; no flights that day.")],
            3 => [User("Hi there!"), Assistant(null, "Hello! How can I help with your trip?")],
            _ => [User("Book me a flight."), Assistant("Origin, destination and date are missing.", "Where from, where to, and on which date?")],
        };
        return new JsonObject
        {
            ["$schema"] = ConversationSchema, ["id"] = $"bench-{i:D6}",
            ["functions"] = new JsonArray("convert_currency", "search_flights", "find_hotels"), ["messages"] = messages,
        };
    }

    private static string Json(JsonNode node) => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
}
