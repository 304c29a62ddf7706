using FcTrain.Data;
using FcTrain.Diagnostics;
using FcTrain.Interop;

namespace FcTrain.Tests.Interop;

/// <summary>A temporary workspace for import tests: input files written by the test, an output dataset folder, its loading.</summary>
internal sealed class ImportWorkspace : IDisposable
{
    public string Root { get; } = Directory.CreateTempSubdirectory("fctrain-import-").FullName;

    public string Out => Path.Combine(Root, "datasets", "imported");

    public string Write(string name, string text)
    {
        string path = Path.Combine(Root, "in", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public (ImportSummary Summary, List<Diagnostic> Diagnostics, List<string> Log) Import(ImportFormat? format, bool skipInvalid, params string[] inputs)
    {
        var diagnostics = new List<Diagnostic>();
        var log = new List<string>();
        var summary = Importer.Run(new ImportOptions(inputs, Out, Root, format, SkipInvalid: skipInvalid), diagnostics, log.Add);
        return (summary, diagnostics, log);
    }

    /// <summary>The imported dataset as <c>fctrain validate</c> loads it; fails the test on any diagnostic but the expected warnings' codes.</summary>
    public Dataset Load(params string[] expectedWarnings)
    {
        var result = DatasetLoader.Load(Root, [Out]);
        Assert.Equal(expectedWarnings, result.Diagnostics.Select(d => d.Severity == Severity.Warning ? d.Code : d.ToString()));
        return Assert.Single(result.Datasets);
    }

    /// <summary>Every file of the output folder and its text, by path relative to it.</summary>
    public SortedDictionary<string, string> Files() => new(
        Directory.EnumerateFiles(Out, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(Out, f).Replace('\\', '/'), File.ReadAllText), StringComparer.Ordinal);

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
