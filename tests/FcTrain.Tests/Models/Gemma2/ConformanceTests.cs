using System.Text.Json;
using FcTrain.Lora;
using FcTrain.Models;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Tests.Models.Gemma2;

/// <summary>
/// Numeric oracle: golden logits and losses of transformers' Gemma2ForCausalLM (eager) and PEFT LoRA from an
/// independent reference (TestData/conformance/README.md). Every Gemma-2 feature is active in these checkpoints:
/// sliding window, both soft-caps, query_pre_attn_scalar ≠ head_dim, GQA, head_dim·heads ≠ hidden, tied head.
/// Tolerances in float32: max |logit diff| ≤ 1e-4, loss within 1e-5.
/// </summary>
public class ConformanceTests
{
    private const double LogitTolerance = 1e-4, LossTolerance = 1e-5;

    public static TheoryData<string> Cases => new() { "tiny-f32", "tiny-bf16-sharded" };

    [Theory, MemberData(nameof(Cases))]
    public void Logits_and_loss_match_transformers(string name)
    {
        using var scope = NewDisposeScope();
        var golden = Golden.Load(name);
        using var model = ModelLoader.Load(Golden.Folder(name), ScalarType.Float32, CPU);
        var ids = golden.Tensor("input_ids", ScalarType.Int64);
        var positions = arange(ids.shape[1]).expand(ids.shape[0], -1);

        var logits = model.forward(ids, positions);

        Golden.AssertClose(golden.Tensor("logits", ScalarType.Float32), logits, LogitTolerance);
        Assert.Equal(golden.Number("loss"), Loss.NextToken(logits, golden.Tensor("labels", ScalarType.Int64)), LossTolerance);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Packed_rows_attend_block_diagonally_like_transformers(string name)
    {
        using var scope = NewDisposeScope();
        var packed = Golden.Load(name).Child("packed");
        using var model = ModelLoader.Load(Golden.Folder(name), ScalarType.Float32, CPU);

        var logits = model.forward(packed.Tensor("input_ids", ScalarType.Int64),
            packed.Tensor("position_ids", ScalarType.Int64), packed.Tensor("document_ids", ScalarType.Int64));

        Golden.AssertClose(packed.Tensor("logits", ScalarType.Float32), logits, LogitTolerance);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Peft_adapter_gives_the_golden_logits(string name)
    {
        using var scope = NewDisposeScope();
        var golden = Golden.Load(name);
        var withAdapter = golden.Child("with_adapter");
        using var model = ModelLoader.Load(Golden.Folder(name), ScalarType.Float32, CPU);
        PeftAdapter.Load(model, Path.Combine(Golden.Folder(name), "adapter"));
        model.eval();
        var ids = withAdapter.Tensor("input_ids", ScalarType.Int64);

        var logits = model.forward(ids, arange(ids.shape[1]).expand(ids.shape[0], -1));

        Golden.AssertClose(withAdapter.Tensor("logits", ScalarType.Float32), logits, LogitTolerance);
        Assert.Equal(withAdapter.Number("loss"), Loss.NextToken(logits, golden.Tensor("labels", ScalarType.Int64)), LossTolerance);
    }

    /// <summary>golden.json of one conformance case, as tensors.</summary>
    internal sealed class Golden(JsonElement root)
    {
        public static string Folder(string name) => Path.Combine(AppContext.BaseDirectory, "TestData/conformance/gemma2", name);

        public static Golden Load(string name) =>
            new(JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder(name), "golden.json"))).RootElement);

        public Golden Child(string key) => new(root.GetProperty(key));

        public double Number(string key) => root.GetProperty(key).GetDouble();

        public Tensor Tensor(string key, ScalarType type)
        {
            var values = new List<double>();
            var shape = new List<long>();
            void Walk(JsonElement e, int depth)
            {
                if (e.ValueKind != JsonValueKind.Array) { values.Add(e.GetDouble()); return; }
                if (shape.Count == depth) shape.Add(e.GetArrayLength());
                foreach (var child in e.EnumerateArray()) Walk(child, depth + 1);
            }
            Walk(root.GetProperty(key), 0);
            return tensor(values.ToArray(), [.. shape]).to(type);
        }

        /// <summary>llm.c's check_tensor: the largest absolute difference, reported with where it is.</summary>
        public static void AssertClose(Tensor expected, Tensor actual, double tolerance)
        {
            Assert.Equal(expected.shape, actual.shape);
            var diff = (expected - actual.to(ScalarType.Float32)).abs();
            double max = diff.max().item<float>();
            Assert.True(max <= tolerance, $"max |logit diff| = {max:E3} > {tolerance:E0} at flat index {diff.argmax().item<long>()}");
        }
    }
}
