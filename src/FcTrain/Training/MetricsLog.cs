using FcTrain.Settings;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using FcTrain.IO;
using ScottPlot;

namespace FcTrain.Training;

/// <summary>One logged point: a train log line (every <see cref="FcTrainSettings.LoggingSteps"/> steps), an eval pass,
/// or the final score of the train split without dropout (<c>train_split</c>).</summary>
public sealed record Metric(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("step")] int Step,
    [property: JsonPropertyName("epoch")] double Epoch,
    [property: JsonPropertyName("loss")] double Loss,
    [property: JsonPropertyName("learning_rate")] double? LearningRate = null,
    [property: JsonPropertyName("grad_norm")] double? GradNorm = null,
    [property: JsonPropertyName("tokens_per_second")] double? TokensPerSecond = null,
    [property: JsonPropertyName("elapsed_seconds")] double? ElapsedSeconds = null,
    [property: JsonPropertyName("mean_token_accuracy")] double? Accuracy = null,
    [property: JsonPropertyName("min_margin")] double? MinMargin = null);

/// <summary>
/// The run's <c>metrics.jsonl</c> (one JSON object a line) and <c>loss.png</c>. Both files are rewritten
/// atomically from memory on each flush, so a crash leaves the previous complete version, never a torn line.
/// </summary>
public sealed class MetricsLog(string runDirectory)
{
    static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };
    readonly List<Metric> points = [];

    public string JsonlPath => Path.Combine(runDirectory, "metrics.jsonl");
    public string PlotPath => Path.Combine(runDirectory, "loss.png");
    public IReadOnlyList<Metric> Points => points;

    public void Add(Metric metric) => points.Add(metric);

    /// <summary>Restores the points of a resumed run (written by the interrupted process) up to the checkpoint's
    /// <paramref name="step"/>: the steps after it are trained again, and logged again.</summary>
    public void Load(int step)
    {
        if (!File.Exists(JsonlPath)) return;
        points.Clear();
        foreach (string line in File.ReadLines(JsonlPath).Where(l => l.Length > 0))
            if (JsonSerializer.Deserialize<Metric>(line, Json) is { } point && point.Step <= step) points.Add(point);
    }

    public void Flush()
    {
        var text = new StringBuilder();
        foreach (var point in points) text.Append(JsonSerializer.Serialize(point, Json)).Append('\n');
        AtomicFile.WriteAllText(JsonlPath, text.ToString());
        AtomicFile.WriteAllBytes(PlotPath, RenderPlot());
    }

    byte[] RenderPlot()
    {
        var plot = new Plot();
        plot.Title("fctrain loss");
        plot.XLabel("optimizer step");
        plot.YLabel("loss (mean cross-entropy on trained tokens)");
        foreach (var (kind, label) in new[] { ("train", "train"), ("eval", "eval (per epoch)") })
        {
            var series = points.Where(p => p.Kind == kind).ToArray();
            if (series.Length == 0) continue;
            var scatter = plot.Add.Scatter(series.Select(p => (double)p.Step).ToArray(), series.Select(p => p.Loss).ToArray());
            scatter.LegendText = label;
        }
        plot.ShowLegend();
        return plot.GetImageBytes(900, 540, ImageFormat.Png);
    }
}
