using System.Text;
using System.Text.Json;
using FcTrain.Diagnostics;
using Json.Schema;

namespace FcTrain.Training;

/// <summary>
/// Reads <c>fctrain.json</c> (the run settings at the repository root), validates it against
/// <c>schemas/fctrain.v1.schema.json</c> and maps it onto <see cref="TrainingOptions"/>.
/// Every problem is reported with file, line and column; nothing is applied when there is one.
/// </summary>
public static class TrainingConfigFile
{
    public const string FileName = "fctrain.json";

    static readonly JsonDocumentOptions ParseOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };
    static readonly Lazy<JsonSchema> Schema = new(() =>
    {
        using var stream = typeof(TrainingConfigFile).Assembly.GetManifestResourceStream("schemas/fctrain.v1.schema.json")
            ?? throw new InvalidOperationException("fctrain.v1.schema.json is not embedded in FcTrain.dll");
        return JsonSchema.FromText(new StreamReader(stream).ReadToEnd());
    });

    /// <summary>Applies the file at <paramref name="path"/> onto <paramref name="options"/>; errors are returned, not thrown.</summary>
    public static (TrainingOptions Options, IReadOnlyList<Diagnostic> Errors) Load(string path, TrainingOptions options)
    {
        byte[] bytes = File.ReadAllBytes(path);
        JsonDocument document;
        try { document = JsonDocument.Parse(bytes, ParseOptions); }
        catch (JsonException e)
        {
            return (options, [Error(path, (int)(e.LineNumber ?? 0) + 1, (int)(e.BytePositionInLine ?? 0) + 1,
                $"{FileName} is not valid JSON: {e.Message.Split(" Path:")[0]} Fix the syntax at this position.")]);
        }
        using (document)
        {
            var results = Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!results.IsValid)
            {
                var positions = JsonPositions.Of(bytes);
                var errors = (results.Details ?? [])
                    .Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => (Pointer: d.InstanceLocation.ToString(), Message: e.Value)))
                    .Distinct()
                    .Select(e =>
                    {
                        var (line, column) = positions.TryGetValue(e.Pointer, out var p) ? p : (1, 1);
                        string where = e.Pointer.Length == 0 ? "the file" : $"'{e.Pointer}'";
                        return Error(path, line, column, $"{where} does not match schemas/fctrain.v1.schema.json: {e.Message}. See the schema for the allowed keys and values.");
                    })
                    .ToList();
                if (errors.Count == 0) errors.Add(Error(path, 1, 1, $"{FileName} does not match schemas/fctrain.v1.schema.json."));
                return (options, errors);
            }
            return (Apply(options, document.RootElement), []);
        }
    }

    /// <summary>Explicit mapping from the file's keys (camelCase) onto the options record; the schema already checked the types.</summary>
    static TrainingOptions Apply(TrainingOptions o, JsonElement root)
    {
        foreach (var p in root.EnumerateObject())
        {
            var v = p.Value;
            o = p.Name switch
            {
                "model" => o with { Model = v.GetString()! },
                "shards" => o with { Shards = v.GetString()! },
                "output" => o with { Output = v.GetString()! },
                "train" => ApplyTrain(o, v),
                "lora" => o with { Lora = ApplyLora(o.Lora, v) },
                _ => o, // "$schema"
            };
        }
        return o;
    }

    static TrainingOptions ApplyTrain(TrainingOptions o, JsonElement train)
    {
        foreach (var p in train.EnumerateObject())
        {
            var v = p.Value;
            o = p.Name switch
            {
                "epochs" => o with { Epochs = v.GetInt32() },
                "maxSteps" => o with { MaxSteps = v.GetInt32() },
                "learningRate" => o with { LearningRate = v.GetDouble() },
                "weightDecay" => o with { WeightDecay = v.GetDouble() },
                "adamBeta1" => o with { AdamBeta1 = v.GetDouble() },
                "adamBeta2" => o with { AdamBeta2 = v.GetDouble() },
                "adamEpsilon" => o with { AdamEpsilon = v.GetDouble() },
                "warmupRatio" => o with { WarmupRatio = v.GetDouble() },
                "batchSize" => o with { BatchSize = v.GetInt32() },
                "gradientAccumulationSteps" => o with { GradientAccumulationSteps = v.GetInt32() },
                "maxGradNorm" => o with { MaxGradNorm = v.GetDouble() },
                "maxSeqLength" => o with { MaxSeqLength = v.GetInt32() },
                "seed" => o with { Seed = v.GetInt32() },
                "device" => o with { Device = v.GetString()! },
                "dtype" => o with { Dtype = v.GetString()! },
                "gradientCheckpointing" => o with { GradientCheckpointing = v.GetBoolean() },
                "loggingSteps" => o with { LoggingSteps = v.GetInt32() },
                "saveSteps" => o with { SaveSteps = v.GetInt32() },
                "evalEachEpoch" => o with { EvalEachEpoch = v.GetBoolean() },
                "initAdapter" => o with { InitAdapter = v.GetString()! },
                _ => o,
            };
        }
        return o;
    }

    static LoraSettings ApplyLora(LoraSettings l, JsonElement lora)
    {
        foreach (var p in lora.EnumerateObject())
        {
            var v = p.Value;
            l = p.Name switch
            {
                "r" => l with { Rank = v.GetInt32() },
                "alpha" => l with { Alpha = v.GetDouble() },
                "dropout" => l with { Dropout = v.GetDouble() },
                "targetModules" => l with { TargetModules = v.EnumerateArray().Select(t => t.GetString()!).ToArray() },
                "useRsLora" => l with { UseRsLora = v.GetBoolean() },
                _ => l,
            };
        }
        return l;
    }

    static Diagnostic Error(string path, int line, int column, string message) =>
        new(path, line, column, Severity.Error, "FCT0301", message);
}

/// <summary>JSON pointer → 1-based (line, column) of the value's first character, from one reader pass.</summary>
internal static class JsonPositions
{
    public static Dictionary<string, (int Line, int Column)> Of(byte[] utf8)
    {
        var lineStarts = new List<int> { 0 };
        for (int i = 0; i < utf8.Length; i++) if (utf8[i] == (byte)'\n') lineStarts.Add(i + 1);
        (int, int) At(long offset)
        {
            int line = lineStarts.BinarySearch((int)offset);
            if (line < 0) line = ~line - 1;
            int column = Encoding.UTF8.GetCharCount(utf8, lineStarts[line], (int)offset - lineStarts[line]) + 1;
            return (line + 1, column);
        }

        var result = new Dictionary<string, (int, int)>();
        var path = new Stack<(string Prefix, int Index, bool IsArray)>();
        string? pendingName = null;
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName)
            {
                pendingName = reader.GetString()!.Replace("~", "~0").Replace("/", "~1");
                continue;
            }
            if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray) { path.Pop(); continue; }

            string pointer;
            if (path.Count == 0) pointer = "";
            else if (path.Peek().IsArray)
            {
                var top = path.Pop();
                pointer = $"{top.Prefix}/{top.Index}";
                path.Push(top with { Index = top.Index + 1 });
            }
            else pointer = $"{path.Peek().Prefix}/{pendingName}";
            result[pointer] = At(reader.TokenStartIndex);
            if (reader.TokenType == JsonTokenType.StartObject) path.Push((pointer, 0, false));
            else if (reader.TokenType == JsonTokenType.StartArray) path.Push((pointer, 0, true));
        }
        return result;
    }
}
