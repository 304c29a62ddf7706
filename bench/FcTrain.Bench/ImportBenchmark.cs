using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using FcTrain.Diagnostics;
using FcTrain.Interop;

namespace FcTrain.Bench;

/// <summary>
/// <c>import [N]</c>: generates N (default 60,000, the size of xLAM-function-calling-60k) xLAM-shaped records — 1 to 3
/// tools out of a pool of 500, typed parameters with defaults and optionals, 1 or 2 (parallel) calls — into one JSONL
/// file, and measures <see cref="Importer.Run"/> (read, convert, de-duplicate functions, check every call against its
/// schema, write the dataset) in records per second.
/// </summary>
internal static class ImportBenchmark
{
    public static int Run(string[] args)
    {
        int count = args.Length > 0 ? int.Parse(args[0]) : 60_000;
        string root = Path.Combine(Path.GetTempPath(), $"fctrain-bench-import-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(root);
            string input = Path.Combine(root, "xlam.jsonl");
            var generate = Stopwatch.StartNew();
            using (var writer = new StreamWriter(input, false, new UTF8Encoding(false)))
                for (int i = 0; i < count; i++) writer.Write(Record(i).ToJsonString() + "\n");
            Console.WriteLine($"generated {count:N0} records ({new FileInfo(input).Length / 1e6:0.0} MB) in {generate.Elapsed.TotalSeconds:0.00} s; processors: {Environment.ProcessorCount}");

            var times = new List<double>();
            for (int run = 0; run < 3; run++)
            {
                var diagnostics = new List<Diagnostic>();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                string output = Path.Combine(root, "datasets", "xlam");
                var summary = Importer.Run(new ImportOptions([input], output, root, ImportFormat.Xlam), diagnostics, _ => { });
                watch.Stop();
                if (diagnostics.Count > 0 || summary.Imported != count)
                {
                    foreach (var d in diagnostics.Take(10)) Console.Error.WriteLine(d);
                    Console.Error.WriteLine($"import benchmark: expected {count} imported records, got {summary.Imported} and {diagnostics.Count} diagnostics");
                    return 1;
                }
                times.Add(watch.Elapsed.TotalSeconds);
                double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                // On a shared machine the wall time depends on the load; CPU seconds say what the import itself costs.
                Console.WriteLine($"run {run + 1}{(run == 0 ? " (cold)" : "")}: {watch.Elapsed.TotalSeconds:0.000} s, {count / watch.Elapsed.TotalSeconds:N0} records/s; "
                    + $"{cpuSeconds:0.00} CPU s ({count / cpuSeconds:N0} records per CPU second); {summary.Functions} functions, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1e6:0} MB; output sha256 {FolderHash(output)[..16]}");
            }
            Console.WriteLine($"import: cold {count / times[0]:N0} records/s; warm best {count / times.Skip(1).Min():N0} records/s");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>
    /// <c>import-stream [MB]</c>: generates a JSONL of about MB megabytes (default 1024) of the same records into the
    /// temporary folder, imports it once, and reports the input size against the process's peak resident set
    /// (<c>VmHWM</c>), before and after the import: memory must stay flat as the input grows. Everything is deleted after.
    /// </summary>
    public static int Stream(string[] args)
    {
        long megabytes = args.Length > 0 ? long.Parse(args[0]) : 1024;
        string root = Path.Combine(Path.GetTempPath(), $"fctrain-bench-stream-{Guid.NewGuid():N}");
        try
        {
            Directory.CreateDirectory(root);
            string input = Path.Combine(root, "xlam.jsonl");
            int count = 0;
            var generate = Stopwatch.StartNew();
            using (var stream = new FileStream(input, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
                while (stream.Length + 4096 < megabytes << 20)
                {
                    for (int k = 0; k < 1000; k++) writer.Write(Record(count++).ToJsonString() + "\n");
                    writer.Flush();
                }
            long bytes = new FileInfo(input).Length;
            Console.WriteLine($"generated {count:N0} records, {bytes / 1e6:N0} MB, in {generate.Elapsed.TotalSeconds:0.0} s; peak RSS so far {PeakRssMb():N0} MB");

            GC.Collect();
            var diagnostics = new List<Diagnostic>();
            var watch = Stopwatch.StartNew();
            var summary = Importer.Run(new ImportOptions([input], Path.Combine(root, "datasets", "xlam"), root, ImportFormat.Xlam), diagnostics, _ => { });
            watch.Stop();
            if (diagnostics.Count > 0 || summary.Imported != count)
            {
                foreach (var d in diagnostics.Take(10)) Console.Error.WriteLine(d);
                Console.Error.WriteLine($"import-stream benchmark: expected {count} imported records, got {summary.Imported} and {diagnostics.Count} diagnostics");
                return 1;
            }
            Console.WriteLine($"imported {count:N0} records ({bytes / 1e6:N0} MB) in {watch.Elapsed.TotalSeconds:0.0} s ({count / watch.Elapsed.TotalSeconds:N0} records/s); "
                + $"peak RSS {PeakRssMb():N0} MB, managed heap now {GC.GetTotalMemory(false) / 1e6:N0} MB, {summary.Functions} functions");
            return 0;
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The process's peak resident set size (VmHWM in /proc/self/status), in MB.</summary>
    private static double PeakRssMb()
    {
        string line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
    }

    /// <summary>SHA-256 over the relative paths and contents of every file under <paramref name="folder"/>, in ordinal order: equal outputs, equal hashes.</summary>
    private static string FolderHash(string folder)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, file) + "\n"));
            hash.AppendData(File.ReadAllBytes(file));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static readonly string[] Types = ["int", "str", "float", "bool", "List[int]", "Dict[str, Any]", "str, optional", "List[str]"];

    private static JsonObject Parameter(int f, int p) => new()
    {
        ["description"] = $"Parameter {p} of function {f}.",
        ["type"] = Types[(f + p) % Types.Length],
    };

    private static JsonObject Tool(int f)
    {
        var parameters = new JsonObject();
        for (int p = 0; p < 1 + f % 4; p++) parameters[$"p{p}"] = Parameter(f, p);
        return new JsonObject { ["name"] = $"function_{f}", ["description"] = $"Does thing number {f}.", ["parameters"] = parameters };
    }

    private static JsonNode? Value(string type, int i) => type switch
    {
        "int" => i % 1000,
        "str" or "str, optional" => $"value {i % 97}",
        "float" => i % 100 + 0.5,
        "bool" => i % 2 == 0,
        "List[int]" => new JsonArray(1, 2, i % 10),
        "List[str]" => new JsonArray("a", $"b{i % 7}"),
        _ => new JsonObject { ["k"] = i % 5 },
    };

    private static JsonObject Call(int f, int i)
    {
        var arguments = new JsonObject();
        for (int p = 0; p < 1 + f % 4; p++) arguments[$"p{p}"] = Value(Types[(f + p) % Types.Length], i);
        return new JsonObject { ["name"] = $"function_{f}", ["arguments"] = arguments };
    }

    private static JsonObject Record(int i)
    {
        int first = i * 7 % 500, tools = 1 + i % 3;
        var offered = Enumerable.Range(0, tools).Select(k => (first + k * 131) % 500).Distinct().ToList();
        var calls = new JsonArray(Call(offered[0], i));
        if (i % 4 == 0) calls.Add(Call(offered[^1], i + 1));
        return new JsonObject
        {
            ["id"] = i,
            ["query"] = $"Please do request number {i} with the tools at hand.",
            ["tools"] = new JsonArray(offered.Select(f => (JsonNode?)Tool(f)).ToArray()).ToJsonString(),
            ["answers"] = calls.ToJsonString(),
        };
    }
}
