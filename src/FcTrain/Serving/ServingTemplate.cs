using System.Reflection;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Templates;

namespace FcTrain.Serving;

/// <summary>
/// The chat template a merged model is served with: <c>chat_template.jinja</c> (an embedded resource), a Jinja
/// port of <see cref="Templates.ChatTemplate"/> for transformers, vLLM and llama.cpp, and <c>Modelfile.tmpl</c>, the
/// same turns as an Ollama Go template. The only dataset-dependent input is the template name (course or gemma):
/// the Jinja file reads it from its <c>template_name</c> line, which <see cref="Jinja"/> fills in. docs/serving.md
/// describes the input both take and what cannot be expressed.
/// </summary>
public static class ServingTemplate
{
    private const string TemplateNamePlaceholder = "@TEMPLATE_NAME@";

    /// <summary>
    /// The Jinja chat template for datasets rendered with <paramref name="options"/>. Serialization "hermes" (Python
    /// reprs) cannot be expressed: the OpenAI input carries arguments as JSON strings, which Jinja cannot parse to
    /// re-print as Python literals (FCT0614).
    /// </summary>
    public static string Jinja(TemplateOptions options, string where = "fctrain") =>
        Resource("chat_template.jinja").Replace(TemplateNamePlaceholder, Check(options, where));

    /// <summary>The Ollama Modelfile: <c>FROM ./<paramref name="ggufFile"/></c>, the turns as a Go template, stop at <c>&lt;end_of_turn&gt;</c>.</summary>
    public static string Modelfile(TemplateOptions options, string ggufFile, string where = "fctrain")
    {
        bool course = Check(options, where) == "course";
        return Resource("Modelfile.tmpl")
            .Replace("@GGUF_FILE@", ggufFile)
            .Replace("@USER_ROLE@", course ? "human" : "user")
            .Replace("@TOOL_ROLE@", course ? "tool" : "user")
            .Replace("@END_OF_TURN@", course ? "<end_of_turn><eos>" : "<end_of_turn>")
            .Replace("@AFTER_SYSTEM@", course ? Templates.ChatTemplate.ThinkingInstruction : "\n\n");
    }

    /// <summary>
    /// The template options of the datasets a model was trained on: they must agree on the template name, the
    /// serialization and the tool tokens (one model has one chat template and one tokenizer), else FCT0615.
    /// No datasets: the defaults.
    /// </summary>
    public static TemplateOptions Options(IReadOnlyList<Dataset> datasets) =>
        Agreed(datasets.Select(d => (d.Manifest.Name, d.Manifest.Template, d.Manifest.Source.File)).ToList());

    /// <summary>
    /// The template options recorded in an adapter's <c>fctrain-run.json</c> (the shards manifest names each dataset
    /// trained on with its template), or null when the adapter has no such record (trained elsewhere).
    /// </summary>
    public static TemplateOptions? Recorded(string adapterFolder)
    {
        string run = Path.Combine(adapterFolder, "fctrain-run.json");
        if (!File.Exists(run)) return null;
        JsonNode? manifest;
        try
        {
            manifest = JsonNode.Parse(File.ReadAllText(run))?["data"]?["manifest"];
            if (manifest is JsonValue text && text.TryGetValue(out string? json)) manifest = JsonNode.Parse(json);
        }
        catch (System.Text.Json.JsonException) { return null; }
        if (manifest?["datasets"] is not JsonArray datasets || datasets.Count == 0) return null;
        return Agreed(datasets.Select(d => (
            (string?)d?["name"] ?? "?",
            new TemplateOptions(
                (string?)d?["template"]?["name"] ?? "course",
                (string?)d?["template"]?["serialization"] ?? "json",
                (string?)d?["template"]?["tool_tokens"] ?? "reserved"),
            run)).ToList());
    }

    private static TemplateOptions Agreed(List<(string Name, TemplateOptions Template, string Source)> datasets)
    {
        if (datasets.Count == 0) return new TemplateOptions();
        var (firstName, first, _) = datasets[0];
        foreach (var (name, t, source) in datasets.Skip(1))
            if (t.Name != first.Name || t.Serialization != first.Serialization || t.ToolTokens != first.ToolTokens)
                throw FcTrainException.Error(ServingCodes.TemplatesDisagree,
                    $"the datasets disagree on their template: '{firstName}' has name {first.Name}, serialization {first.Serialization}, tool_tokens {first.ToolTokens}; '{name}' has {t.Name}, {t.Serialization}, {t.ToolTokens}. A merged model is served with one chat template: name the datasets the adapter was trained on, or give them the same template options.",
                    source);
        return first with { TrainOn = "assistant" };
    }

    private static string Check(TemplateOptions options, string where)
    {
        if (options.Name is not ("course" or "gemma"))
            throw FcTrainException.Error("FCT0121", $"unknown template '{options.Name}': use 'course' (the agents course's template) or 'gemma' (google/gemma-2-2b-it's).", where);
        if (ValueSerializer.Parse(options.Serialization, where) == Serialization.Hermes)
            throw FcTrainException.Error(ServingCodes.HermesNotExpressible,
                "template.serialization 'hermes' cannot be served with a Jinja chat template: serving clients send tool-call arguments as JSON strings, and Jinja cannot parse them to write them as the Python dict reprs training saw. Train with serialization 'json' to serve with vLLM, llama.cpp or Ollama (vLLM's hermes parser reads JSON calls only).",
                where);
        return options.Name;
    }

    private static string Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"FcTrain.Serving.{name}")
            ?? throw new InvalidOperationException($"the resource FcTrain.Serving.{name} is missing from the build");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
