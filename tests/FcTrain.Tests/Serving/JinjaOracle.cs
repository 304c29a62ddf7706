using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FcTrain.Tests.Serving;

/// <summary>
/// Renders chat templates with Python's jinja2 configured as transformers configures it (TestData/serving/
/// render_with_jinja.py: ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, transformers'
/// tojson, raise_exception and strftime_now). Without python3 and jinja2 the tests that use it fail and say what to install.
/// </summary>
internal static class JinjaOracle
{
    public sealed record Case(JsonArray Messages, JsonArray? Tools, bool AddGenerationPrompt);

    /// <summary>One result per case: the text, or the template's error (raise_exception).</summary>
    public sealed record Result(string? Text, string? Error);

    private static string Script => Path.Combine(RepoPaths.TestData, "serving", "render_with_jinja.py");

    public static IReadOnlyList<Result> Render(string template, IReadOnlyList<Case> cases)
    {
        var request = new JsonObject
        {
            ["template"] = template,
            ["cases"] = new JsonArray(cases.Select(c => (JsonNode?)new JsonObject
            {
                ["messages"] = c.Messages.DeepClone(),
                ["tools"] = c.Tools?.DeepClone(),
                ["add_generation_prompt"] = c.AddGenerationPrompt,
            }).ToArray()),
        };
        var start = new ProcessStartInfo("python3", [Script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        Process process;
        try { process = Process.Start(start)!; }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"The chat template tests render with Python's jinja2, as transformers does, and python3 could not be started ({e.Message}). Install python3 and jinja2 (Debian: apt-get install python3-jinja2; elsewhere: pip install jinja2).");
            throw;
        }
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            process.StandardInput.Write(request.ToJsonString());
            process.StandardInput.Close();
            process.WaitForExit();
            if (stderr.Result.Contains("No module named 'jinja2'"))
                Assert.Fail("The chat template tests render with Python's jinja2, as transformers does, and python3 has no jinja2 module. Install it (Debian: apt-get install python3-jinja2; elsewhere: pip install jinja2).");
            Assert.True(process.ExitCode == 0, $"{Script} exited {process.ExitCode}:\n{stderr.Result}");
            return JsonNode.Parse(stdout.Result)!.AsArray()
                .Select(r => new Result((string?)r!["text"], (string?)r["error"])).ToList();
        }
    }
}
