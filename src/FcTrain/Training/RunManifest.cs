using FcTrain.Settings;
using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FcTrain.IO;

namespace FcTrain.Training;

/// <summary>
/// <c>run.json</c>: what a trained adapter came from — datasets (names, versions, hashes: the shard manifest),
/// base model and revision, git commit, every setting, final metrics. Written to the run folder and, as
/// <c>fctrain-run.json</c>, beside the adapter so the adapter folder describes itself.
/// </summary>
public static class RunManifest
{
    static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Write(string runDirectory, string adapterDirectory, FcTrainSettings options, PackedData data,
        ModelSource model, TrainingResult result)
    {
        var manifest = new JsonObject
        {
            ["format"] = "fctrain.run.v1",
            ["fctrain"] = typeof(RunManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion,
            ["createdUtc"] = DateTime.UtcNow.ToString("O"),
            ["gitCommit"] = GitCommit(),
            ["baseModel"] = new JsonObject
            {
                ["name"] = model.Name,
                ["path"] = model.Path,
                ["revision"] = model.Revision,
            },
            ["data"] = new JsonObject
            {
                ["shards"] = Path.GetFullPath(options.Shards),
                ["manifestSha256"] = data.ManifestSha256,
                ["manifest"] = JsonNode.Parse(data.ManifestJson),
                ["trainRows"] = data.Train.Count,
                ["evalRows"] = data.Eval.Count,
                ["trainTokens"] = data.TrainTokens,
                ["trainedTokens"] = data.TrainLabelled,
            },
            ["settings"] = JsonSerializer.SerializeToNode(options, Json),
            ["result"] = new JsonObject
            {
                ["steps"] = result.Steps,
                ["trainLoss"] = result.TrainLoss,
                ["evalLoss"] = result.EvalLoss,
                ["trainSplit"] = result.TrainSplit is { } t
                    ? new JsonObject { ["loss"] = t.Loss, ["tokenAccuracy"] = t.Accuracy, ["minMargin"] = t.MinMargin, ["memorised"] = t.MinMargin > 0 }
                    : null,
                ["seconds"] = Math.Round(result.Seconds, 1),
                ["runDirectory"] = Path.GetFullPath(runDirectory),
                ["adapter"] = Path.GetFullPath(adapterDirectory),
            },
        };
        string text = manifest.ToJsonString(Json) + "\n";
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "run.json"), text);
        AtomicFile.WriteAllText(Path.Combine(adapterDirectory, "fctrain-run.json"), text);
    }

    /// <summary>Identifies "the same run": every setting that changes the numbers, and the data.</summary>
    public static string SettingsHash(FcTrainSettings options, PackedData data)
    {
        var relevant = options with { Output = "", Resume = false, MaxNewTokens = 0 };
        string text = JsonSerializer.Serialize(relevant, Json) + data.ManifestSha256;
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    static string? GitCommit()
    {
        try
        {
            using var git = Process.Start(new ProcessStartInfo("git", "rev-parse HEAD")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            });
            if (git is null) return null;
            string commit = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? commit : null;
        }
        catch (System.ComponentModel.Win32Exception) { return null; } // no git on PATH
    }
}
