using System.Text.Json;
using FcTrain.Data;
using FcTrain.Diagnostics;

namespace FcTrain.Validation;

/// <summary>Reads dataset.json into a <see cref="DatasetManifest"/> once its schema holds.</summary>
internal static class ManifestCheck
{
    public static DatasetManifest? Read(JsonSource source, JsonElement root, List<Diagnostic> diagnostics)
    {
        var schema = SchemaCheck.Instance;
        schema.CheckSchemaReference(source, root, SchemaKind.Dataset, required: true, diagnostics);
        if (!schema.Report(source, SchemaKind.Dataset, root, diagnostics)) return null;

        JsonElement split = root.GetProperty("split");
        var rule = new SplitRule(
            split.TryGetProperty("eval_ids", out var ids) ? Strings(ids) : null,
            split.TryGetProperty("eval_fraction", out var fraction) ? fraction.GetDouble() : null,
            split.TryGetProperty("seed", out var seed) ? seed.GetString()! : new SplitRule().Seed);

        var template = new TemplateOptions();
        if (root.TryGetProperty("template", out var t))
            template = new TemplateOptions(
                Name: t.TryGetProperty("name", out var v) ? v.GetString()! : template.Name,
                Serialization: t.TryGetProperty("serialization", out v) ? v.GetString()! : template.Serialization,
                ToolTokens: t.TryGetProperty("tool_tokens", out v) ? v.GetString()! : template.ToolTokens,
                TrainOn: t.TryGetProperty("train_on", out v) ? v.GetString()! : template.TrainOn);

        return new DatasetManifest(
            root.GetProperty("name").GetString()!,
            root.GetProperty("version").GetString()!,
            root.GetProperty("description").GetString()!,
            root.GetProperty("license").GetString()!,
            Strings(root.GetProperty("functions")),
            Strings(root.GetProperty("conversations")),
            rule, template, new SourceSpan(source.File));
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
