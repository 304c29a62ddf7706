using System.Diagnostics;
using FcTrain.Lora;
using FcTrain.Models.Gemma2;
using static TorchSharp.torch;

namespace FcTrain.Bench;

/// <summary>
/// <c>gpu</c> (run by bench/gpu-check on a CUDA machine): a gemma-2-2b-shaped model (all 26 layers, bf16) with the
/// course's LoRA adapter: forward and forward+backward of a 1500-token packed row, and one AdamW step, timed.
/// </summary>
internal static class GpuBenchmark
{
    public static int Run(string[] args)
    {
        if (!cuda.is_available())
        {
            Console.Error.WriteLine("gpu benchmark: libtorch sees no CUDA device (build with -p:FcTrainCuda=true on a GPU machine).");
            return 1;
        }
        var device = CUDA;
        var config = new Gemma2Config();   // gemma-2-2b's shapes
        using var model = new Gemma2ForCausalLM(config, ScalarType.BFloat16, device);
        using (no_grad()) foreach (var p in model.parameters()) p.normal_(0, 0.02);
        model.ApplyLora(new LoraConfig(16, 64, 0.05, ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "embed_tokens", "lm_head"]));
        var trainable = model.AdapterParameters().Select(p => p.Value).ToList();
        var optimizer = optim.AdamW(trainable, 1e-4, weight_decay: 0.1);

        const int T = 1500, Trained = 300;
        var ids = randint(0, config.VocabSize, [1, T], device: device);
        var positions = arange(T, device: device).unsqueeze(0);
        var documents = cat([zeros(1, 700, ScalarType.Int64, device), ones(1, 800, ScalarType.Int64, device)], 1);
        var targets = randint(0, config.VocabSize, [Trained], device: device);

        double Time(Action step)
        {
            step();
            cuda.synchronize();
            var watch = Stopwatch.StartNew();
            for (int i = 0; i < 3; i++) step();
            cuda.synchronize();
            return watch.Elapsed.TotalSeconds / 3;
        }
        double forward = Time(() => { using var s = NewDisposeScope(); using var _ = no_grad(); model.Hidden(ids, positions, documents); });
        double train = Time(() =>
        {
            using var s = NewDisposeScope();
            var hidden = model.Hidden(ids, positions, documents)[0, ^Trained..];
            var loss = nn.functional.cross_entropy(model.Logits(hidden).to(ScalarType.Float32), targets);
            loss.backward();
            optimizer.step();
            optimizer.zero_grad();
        });
        Console.WriteLine($"gemma-2-2b shapes, bf16, LoRA r=16, row of {T} tokens (2 packed documents):");
        Console.WriteLine($"  forward:              {forward * 1000:N0} ms ({T / forward:N0} tokens/s)");
        Console.WriteLine($"  LoRA training step:   {train * 1000:N0} ms ({T / train:N0} tokens/s)");
        return 0;
    }
}
