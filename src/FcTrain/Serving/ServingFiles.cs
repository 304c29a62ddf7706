using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.IO;
using FcTrain.Tokenization;

namespace FcTrain.Serving;

/// <summary>
/// The files <c>fctrain merge</c> adds to a merged model folder so that it serves the way it was trained: tokenizer.json
/// with the tool markup (and the base's tokenizer.model, for llama.cpp), tokenizer_config.json and chat_template.jinja with the serving chat template
/// (<see cref="ServingTemplate"/>), generation_config.json stopping at <c>&lt;eos&gt;</c> and <c>&lt;end_of_turn&gt;</c>,
/// an Ollama Modelfile and a README.md with the vLLM, llama.cpp and Ollama commands.
/// </summary>
public static class ServingFiles
{
    public const string ChatTemplateFile = "chat_template.jinja";

    /// <param name="directory">The merged model folder (config.json and weights already written).</param>
    /// <param name="options">The template options of the training datasets (<see cref="ServingTemplate.Options"/>).</param>
    /// <param name="tokenizer">The tokenizer training used (the adapter's, else the base model's with the datasets' tool tokens).</param>
    /// <param name="baseModelFolder">The base model's folder: its generation_config.json and config.json give bos and pad.</param>
    /// <returns>The files written, in order.</returns>
    public static IReadOnlyList<string> Write(string directory, TemplateOptions options, GemmaTokenizer tokenizer, string baseModelFolder, string where = "fctrain")
    {
        string jinja = ServingTemplate.Jinja(options, where);
        var mode = ToolTokens.ParseMode(options.ToolTokens, where);
        if (tokenizer.ToolTokens != mode)
            throw FcTrainException.Error(ServingCodes.ToolTokensDisagree,
                $"the datasets use template.tool_tokens '{options.ToolTokens}', but the adapter's tokenizer ({tokenizer.Source}) holds the tool markup as '{ToolTokens.Name(tokenizer.ToolTokens)}' tokens. Name the datasets the adapter was trained on.",
                where);
        string ggufFile = GgufFile(directory);
        var written = new List<string>();

        // tokenizer.json: the tags must be tokens of their own (vLLM's hermes parser looks <tool_call> up in the vocabulary).
        string tokenizerJson = Path.Combine(directory, "tokenizer.json");
        if (!File.Exists(tokenizerJson) || !HasMarkup(tokenizerJson))
        {
            tokenizer.WriteHuggingFaceJson(tokenizerJson);
            written.Add(tokenizerJson);
        }
        // llama.cpp's conversion of Gemma-2 reads the SentencePiece model (an adapter folder has none: take the base's).
        string sentencePiece = Path.Combine(directory, "tokenizer.model"), baseSentencePiece = Path.Combine(baseModelFolder, "tokenizer.model");
        if (!File.Exists(sentencePiece) && File.Exists(baseSentencePiece))
        {
            AtomicFile.Write(sentencePiece, s => { using var input = File.OpenRead(baseSentencePiece); input.CopyTo(s); });
            written.Add(sentencePiece);
        }
        string tokenizerConfig = Path.Combine(directory, TokenizerConfigFile.FileName);
        string baseConfig = File.Exists(tokenizerConfig) ? tokenizerConfig : Path.Combine(baseModelFolder, TokenizerConfigFile.FileName);
        TokenizerConfigFile.Write(tokenizerConfig, tokenizerJson, baseConfig, jinja);
        written.Add(tokenizerConfig);
        AtomicFile.WriteAllText(Path.Combine(directory, ChatTemplateFile), jinja);
        written.Add(Path.Combine(directory, ChatTemplateFile));

        string generation = Path.Combine(directory, "generation_config.json");
        AtomicFile.WriteAllText(generation, GenerationConfig(generation, baseModelFolder, tokenizer).ToJsonString(Indented) + "\n");
        written.Add(generation);

        string modelfile = Path.Combine(directory, "Modelfile");
        AtomicFile.WriteAllText(modelfile, ServingTemplate.Modelfile(options, ggufFile, where));
        written.Add(modelfile);

        string readme = Path.Combine(directory, "README.md");
        AtomicFile.WriteAllText(readme, Readme(directory, ggufFile, options, File.Exists(Path.Combine(directory, "tokenizer.model"))));
        written.Add(readme);
        return written;
    }

    /// <summary>The GGUF file the README's llama.cpp conversion writes: the folder's name, <c>.gguf</c>.</summary>
    public static string GgufFile(string directory) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory))) + ".gguf";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static bool HasMarkup(string tokenizerJson)
    {
        var added = (JsonNode.Parse(File.ReadAllText(tokenizerJson))?["added_tokens"] as JsonArray ?? [])
            .Select(t => (string?)t?["content"]).ToHashSet(StringComparer.Ordinal);
        return ToolTokens.Markup.All(added.Contains);
    }

    /// <summary>The base's generation settings (this folder's copy, else the base folder's), bos and pad as the base model's, eos <c>[&lt;eos&gt;, &lt;end_of_turn&gt;]</c>.</summary>
    private static JsonObject GenerationConfig(string path, string baseModelFolder, GemmaTokenizer tokenizer)
    {
        var config = Read(path) ?? Read(Path.Combine(baseModelFolder, "generation_config.json")) ?? new JsonObject();
        var model = Read(Path.Combine(baseModelFolder, "config.json"));
        config["bos_token_id"] ??= model?["bos_token_id"]?.DeepClone() ?? GemmaTokenizer.BosId;
        config["pad_token_id"] ??= model?["pad_token_id"]?.DeepClone() ?? GemmaTokenizer.PadId;
        config["eos_token_id"] = new JsonArray(GemmaTokenizer.EosId, tokenizer.TokenId("<end_of_turn>"));
        return config;
    }

    private static JsonObject? Read(string path) => File.Exists(path) ? JsonNode.Parse(File.ReadAllText(path)) as JsonObject : null;

    private static string Readme(string directory, string ggufFile, TemplateOptions options, bool hasSentencePiece)
    {
        string dir = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)));
        string outType = (Read(Path.Combine(directory, "config.json"))?["torch_dtype"]?.GetValue<string>()) switch
        {
            "bfloat16" => "bf16",
            "float16" => "f16",
            _ => "f32",
        };
        string sentencePiece = hasSentencePiece ? ""
            : "\nThe conversion reads the SentencePiece model `tokenizer.model`, which the base model folder did not have: copy it here from the base model (google/gemma-2-2b-it) first.\n";
        return $$$"""
            # {{{dir}}}: a Gemma-2 model merged by fctrain, ready to serve

            Written by `fctrain merge`. The chat template (`chat_template.jinja`, also `chat_template` in
            `tokenizer_config.json`) renders requests exactly as training rendered the datasets (template
            `{{{options.Name}}}`, serialization `{{{options.Serialization}}}`, tool tokens `{{{options.ToolTokens}}}`): the
            Hermes tool preamble from `tools`, `<think>…</think>` from `reasoning_content`, and each call as
            `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` in JSON, which vLLM's `hermes` parser reads.
            `generation_config.json` stops at `<eos>` and `<end_of_turn>`.

            ## transformers

            ```python
            from transformers import AutoModelForCausalLM, AutoTokenizer
            tokenizer = AutoTokenizer.from_pretrained("{{{dir}}}")
            model = AutoModelForCausalLM.from_pretrained("{{{dir}}}")
            ids = tokenizer.apply_chat_template(messages, tools=tools, add_generation_prompt=True, return_tensors="pt")
            ```

            ## vLLM

            ```sh
            vllm serve {{{dir}}} --enable-auto-tool-choice --tool-call-parser hermes --chat-template {{{dir}}}/chat_template.jinja
            ```

            ## llama.cpp

            ```sh
            python convert_hf_to_gguf.py {{{dir}}} --outfile {{{dir}}}/{{{ggufFile}}} --outtype {{{outType}}}
            llama-server -m {{{dir}}}/{{{ggufFile}}} --jinja --chat-template-file {{{dir}}}/chat_template.jinja
            ```
            {{{sentencePiece}}}
            ## Ollama

            After the llama.cpp conversion above (the `Modelfile` reads `./{{{ggufFile}}}`):

            ```sh
            ollama create {{{dir}}} -f {{{dir}}}/Modelfile
            ollama run {{{dir}}}
            ```

            The Modelfile's Go template writes the same turns and markup; its JSON inside the tool preamble and calls is
            Go's `json` (compact), so it is close to, not byte-equal with, the training text. See fctrain's docs/serving.md.

            """;
    }
}
