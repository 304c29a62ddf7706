using System.Diagnostics;
using System.Text;

namespace FcTrain.Tests;

/// <summary>
/// The built fctrain CLI running in the background, for tests that act while it runs: wait until it prints a
/// line, start another one beside it, kill it with SIGKILL as a crash or an OOM killer would.
/// </summary>
internal sealed class CliProcess : IDisposable
{
    readonly Process process;
    readonly StringBuilder stdout = new(), stderr = new();
    readonly List<string> lines = [];   // both streams, in arrival order

    /// <param name="environment">Variables to set for the process (e.g. OMP_NUM_THREADS).</param>
    public CliProcess(string workingDirectory, string[] args, IReadOnlyDictionary<string, string>? environment = null)
    {
        Args = string.Join(' ', args);
        var start = new ProcessStartInfo("dotnet", [RepoPaths.CliAssembly, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Received(stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Received(stderr, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Args { get; }
    public string Stdout { get { lock (lines) return stdout.ToString(); } }
    public string Stderr { get { lock (lines) return stderr.ToString(); } }
    public bool HasExited => process.HasExited;

    void Received(StringBuilder stream, string? line)
    {
        if (line is null) return;
        lock (lines)
        {
            stream.AppendLine(line);
            lines.Add(line);
            Monitor.PulseAll(lines);
        }
    }

    /// <summary>Waits until a line of stdout or stderr matches; fails the test if the process ends or the time runs out first.</summary>
    public string WaitForLine(Func<string, bool> match, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        lock (lines)
        {
            for (int seen = 0; ; )
            {
                for (; seen < lines.Count; seen++)
                    if (match(lines[seen])) return lines[seen];
                if (process.HasExited && clock.Elapsed > TimeSpan.FromSeconds(1))   // let the last lines arrive
                    throw new Xunit.Sdk.XunitException($"'fctrain {Args}' exited ({process.ExitCode}) without the line awaited:\n{stdout}{stderr}");
                if (clock.Elapsed > timeout)
                    throw new Xunit.Sdk.XunitException($"'fctrain {Args}' printed no such line within {timeout.TotalSeconds} s:\n{stdout}{stderr}");
                Monitor.Wait(lines, TimeSpan.FromMilliseconds(200));
            }
        }
    }

    /// <summary>SIGKILL: no handler, no finally block, no flush runs. Returns false when the process had already ended by itself.</summary>
    public bool Kill()
    {
        bool running = !process.HasExited;
        process.Kill();
        process.WaitForExit();
        return running;
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!process.WaitForExit(timeout)) throw new Xunit.Sdk.XunitException($"'fctrain {Args}' still runs after {timeout.TotalSeconds} s:\n{Stdout}{Stderr}");
        process.WaitForExit();   // the output events have all been raised
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) Kill();
        process.Dispose();
    }
}
