using System.Diagnostics;
using System.Text.RegularExpressions;
using CsCheck;
using FcTrain.Data;
using Xunit.Abstractions;

namespace FcTrain.Tests.Data;

/// <summary>
/// Random mutations of the sample files (byte flips, truncation, deleted and duplicated keys, type swaps, deep
/// nesting, huge numbers and strings, lone surrogates, hostile schema keywords), each validated through the real
/// <see cref="DatasetLoader"/> in a temporary copy: every result is success or canonical diagnostics, never an
/// exception, each within a time bound. <c>dotnet test</c> runs a quick seed-fixed batch; set
/// <c>FCTRAIN_MUTATIONS</c> (and optionally <c>FCTRAIN_MUTATION_SEED</c>, a CsCheck seed) for a long run.
/// </summary>
public class DatasetMutationTests(ITestOutputHelper output)
{
    private static readonly TimeSpan TimeBound = TimeSpan.FromSeconds(10);
    private static readonly Regex Canonical = new(@"^[^\s(][^\n]*?(\(\d+,\d+\))?: (error|warning) FCT\d{4}: [^\n]+$");

    [Fact]
    public void Mutated_sample_files_give_diagnostics_never_exceptions()
    {
        int count = int.TryParse(Environment.GetEnvironmentVariable("FCTRAIN_MUTATIONS"), out int n) ? n : 200;
        string seed = Environment.GetEnvironmentVariable("FCTRAIN_MUTATION_SEED") ?? "fctrainMutat";
        string root = CopySamples();
        try
        {
            var files = Directory.EnumerateFiles(Path.Combine(root, "datasets"), "*.json*", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            var originals = files.ToDictionary(f => f, File.ReadAllBytes);
            var mutation = Gen.Select(Gen.Int[0, files.Count - 1], Gen.Int[0, Mutator.Kinds - 1], Gen.Int);
            var failures = new List<string>();
            int clean = 0, withErrors = 0;
            var slowest = TimeSpan.Zero;

            // One seeded sample of the whole batch: the same mutations on every run for the same seed.
            mutation.Array[count].Sample(batch =>
            {
                failures.Clear();
                clean = withErrors = 0;
                foreach (var (file, kind, random) in batch)
                {
                    string path = files[file];
                    string dataset = Path.GetRelativePath(root, path).Replace('\\', '/').Split('/')[1];
                    byte[] mutated = path.EndsWith(".jsonl", StringComparison.Ordinal)
                        ? Mutator.ApplyToLine(originals[path], kind, new Random(random))
                        : Mutator.Apply(originals[path], kind, new Random(random));
                    File.WriteAllBytes(path, mutated);
                    var watch = Stopwatch.StartNew();
                    try
                    {
                        var result = DatasetLoader.Load(root, [$"datasets/{dataset}"]);
                        var bad = result.Diagnostics.Select(d => d.ToString()).FirstOrDefault(d => !Canonical.IsMatch(d));
                        if (bad is not null) failures.Add($"{Mutator.Name(kind)} of {Path.GetFileName(path)} ({random}): not canonical: {bad}");
                        if (result.HasErrors) withErrors++;
                        else clean++;
                    }
                    catch (Exception e)
                    {
                        failures.Add($"{Mutator.Name(kind)} of {Path.GetFileName(path)} ({random}): {e.GetType().Name}: {e.Message}");
                    }
                    watch.Stop();
                    if (watch.Elapsed > slowest) slowest = watch.Elapsed;
                    if (watch.Elapsed > TimeBound) failures.Add($"{Mutator.Name(kind)} of {Path.GetFileName(path)} ({random}): took {watch.Elapsed}");
                    File.WriteAllBytes(path, originals[path]);
                }
                Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
            }, seed: seed, iter: 1, threads: 1);

            output.WriteLine($"{count} mutations (seed {seed}): {withErrors} with errors, {clean} without, {failures.Count} exceptions or bad lines; slowest {slowest.TotalMilliseconds:0} ms.");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>A temp repository holding a copy of the sample datasets' data files (no snapshots).</summary>
    private static string CopySamples()
    {
        string root = Directory.CreateTempSubdirectory("fctrain-mutation-").FullName;
        string source = Path.Combine(RepoPaths.Root, "datasets");
        foreach (string file in Directory.EnumerateFiles(source, "*.json*", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}snapshots{Path.DirectorySeparatorChar}", StringComparison.Ordinal)))
        {
            string to = Path.Combine(root, "datasets", Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return root;
    }
}
