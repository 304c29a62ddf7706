using FcTrain.Diagnostics;
using static TorchSharp.torch;

namespace FcTrain.Models;

/// <summary>Where and in which precision models run: the one place that maps --device / --dtype names.</summary>
public static class Devices
{
    /// <summary><c>auto</c> (CUDA when libtorch sees a GPU, else CPU), <c>cpu</c> or <c>cuda</c>.</summary>
    public static Device Resolve(string name) => name switch
    {
        "cpu" => CPU,
        "cuda" when !cuda.is_available() => throw FcTrainException.Error("FCT0216",
            "--device cuda, but libtorch sees no CUDA device. Build with -p:FcTrainCuda=true (TorchSharp-cuda-linux) on a machine with an NVIDIA GPU, or use --device cpu."),
        "cuda" => CUDA,
        "auto" => cuda.is_available() ? CUDA : CPU,
        _ => throw FcTrainException.Error("FCT0216", $"unknown device '{name}': use auto, cpu or cuda."),
    };

    /// <summary><c>auto</c> (bfloat16 on CUDA, float32 on CPU), <c>float32</c> or <c>bfloat16</c>.</summary>
    public static ScalarType DType(string name, Device device) => name switch
    {
        "float32" => ScalarType.Float32,
        "bfloat16" => ScalarType.BFloat16,
        "auto" => device.type == TorchSharp.DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
        _ => throw FcTrainException.Error("FCT0216", $"unknown dtype '{name}': use auto, float32 or bfloat16."),
    };
}
