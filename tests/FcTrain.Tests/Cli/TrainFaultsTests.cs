using System.Text.Json;

namespace FcTrain.Tests.Cli;

/// <summary>
/// fctrain processes killed with SIGKILL, and two at once in one workspace: real CLI processes on a workspace in a
/// temporary folder (the weather dataset, the embedded tiny model without adapters on its 256k-row embeddings and
/// head, rows of 32 tokens, one libtorch thread: on a busy machine that is 4 times faster than two).
/// </summary>
public sealed class TrainFaultsTests : IDisposable
{
    static readonly TimeSpan Minutes = TimeSpan.FromMinutes(4);
    static readonly Dictionary<string, string> OneThread = new() { ["OMP_NUM_THREADS"] = "1" };
    readonly string workspace = Directory.CreateTempSubdirectory("fctrain-faults-").FullName;

    public TrainFaultsTests()
    {
        CopyDirectory(Path.Combine(RepoPaths.Root, "datasets", "weather"), Path.Combine(workspace, "datasets", "weather"));
        File.WriteAllText(Path.Combine(workspace, "fctrain.json"), """
            {
              "model": "tiny",
              "train": { "maxSeqLength": 32, "batchSize": 1, "gradientAccumulationSteps": 1, "evalEachEpoch": false, "loggingSteps": 1 },
              "lora": { "targetModules": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"] }
            }
            """);
        // Rows cut at 32 tokens hold no assistant turn: train on every token so each step has a loss.
        var (exit, stdout, stderr) = Run("tokenize", "--max-seq-length", "32", "--truncate", "--train-on", "all");
        Assert.True(exit == 0, stdout + stderr);
    }

    CliProcess Start(params string[] args) => new(workspace, args, OneThread);

    (int ExitCode, string Stdout, string Stderr) Run(params string[] args)
    {
        using var process = Start(args);
        int exit = process.WaitForExit(Minutes);
        return (exit, process.Stdout, process.Stderr);
    }

    public void Dispose() => Directory.Delete(workspace, recursive: true);

    [Fact]
    [Trait("Category", "Slow")]
    public void Train_killed_at_a_random_step_then_resumed_ends_with_the_adapter_of_an_uninterrupted_run()
    {
        const int steps = 24;
        string[] train = ["train", "--epochs", "2", "--max-steps", $"{steps}", "--save-steps", "1"];   // 13 steps an epoch
        var (exit, stdout, stderr) = Run([.. train, "--output", "out/uninterrupted"]);
        Assert.True(exit == 0, stdout + stderr);

        // Killed once step 1, 2 or 3 is logged: anywhere from before that step's checkpoint to half through writing it
        // (killed at step 1 before checkpoint 1, the run starts again from step 0). On a busy machine the process runs on
        // while this test reads the line, so it may have saved later checkpoints: resuming from any of them is correct,
        // as long as it had not finished.
        int killAt = Random.Shared.Next(1, 4);
        using (var run = Start([.. train, "--output", "out/killed"]))
        {
            run.WaitForLine(line => line.StartsWith($"  step {killAt}/{steps}"), Minutes);
            Assert.True(run.Kill(), $"the run ended before it was killed at step {killAt}:\n{run.Stdout}");
        }
        (exit, stdout, stderr) = Run([.. train, "--output", "out/killed", "--resume"]);
        Assert.True(exit == 0, $"killed at step {killAt}:\n{stdout}{stderr}");
        var resumed = System.Text.RegularExpressions.Regex.Match(stdout, @"resumed .* at step (\d+)[: ]");
        Assert.True(resumed.Success, stdout);
        int resumedAt = int.Parse(resumed.Groups[1].Value);
        Assert.InRange(resumedAt, killAt - 1, steps - 1);
        Assert.DoesNotContain("waiting for another fctrain process", stderr);   // the OS freed the killed process's lock

        foreach (string file in new[] { "adapter_model.safetensors", "adapter_config.json" })
            Assert.True(File.ReadAllBytes(Path.Combine(workspace, "out/uninterrupted/adapter", file))
                .SequenceEqual(File.ReadAllBytes(Path.Combine(workspace, "out/killed/adapter", file))), $"{file} differs (killed at step {killAt}, resumed at {resumedAt})");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(Path.Combine(workspace, "out"), "*", SearchOption.AllDirectories),
            f => f.Contains(".partial-") || f.Contains(".old-") || f.EndsWith(".tmp"));
        string metrics = Directory.GetFiles(Path.Combine(workspace, "out/killed/runs"), "metrics.jsonl", SearchOption.AllDirectories).Single();
        Assert.Equal(Enumerable.Range(1, steps), File.ReadLines(metrics).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(p => p.GetProperty("kind").GetString() == "train").Select(p => p.GetProperty("step").GetInt32()));
    }

    [Fact]
    [Trait("Category", "Slow")]
    public void A_second_build_in_the_workspace_waits_for_the_lock_or_fails_after_its_timeout()
    {
        using var first = Start("train", "--epochs", "10", "--max-steps", "100", "--output", "out/first");
        first.WaitForLine(line => line.StartsWith("fctrain: training"), Minutes);   // it holds the lock from before this line

        var (exit, _, stderr) = Run("train", "--lock-timeout", "1", "--output", "out/second");
        Assert.Equal(1, exit);
        Assert.Matches(@"obj/fctrain/fctrain\.lock: error FCT0502: another fctrain process still holds this workspace \(pid \d+ \(fctrain train\) since .*\) after 1 s of waiting", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(Directory.Exists(Path.Combine(workspace, "out/second")));

        using var second = Start("tokenize", "--max-seq-length", "32", "--truncate", "--train-on", "all");
        second.WaitForLine(line => line.StartsWith("fctrain: waiting for another fctrain process to finish with this workspace (pid"), Minutes);
        Assert.DoesNotContain("loading and validating", second.Stdout);   // it does nothing while it waits
        first.Kill();
        Assert.Equal(0, second.WaitForExit(Minutes));
        Assert.Contains("fctrain tokenize: wrote obj/fctrain/shards/manifest.json", second.Stdout);
    }

    static void CopyDirectory(string from, string to)
    {
        foreach (string dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (string file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
