using System.Runtime.InteropServices;

namespace FcTrain.Models;

/// <summary>
/// libtorch's OpenMP runtime (libgomp) lets its worker threads spin 300,000 times after each parallel region before
/// they sleep. Greedy decoding alternates short libtorch ops (the layers) with the fused head's .NET threads
/// (<see cref="Generation.GreedyHead"/>), which then share the cores with spinning workers: on 2 cores the head took
/// 4.5 ms a step instead of 2.2 ms. 10,000 spins still bridge the gap between consecutive libtorch ops (the layers'
/// time did not change). libgomp reads its environment once, when it is loaded, so this must run before the first
/// torch call; a setting the user made is kept.
/// </summary>
public static partial class OpenMp
{
    public static void LimitSpinning()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GOMP_SPINCOUNT") is not null
            || Environment.GetEnvironmentVariable("OMP_WAIT_POLICY") is not null) return;
        try
        {
            setenv("GOMP_SPINCOUNT", "10000", overwrite: 0);   // the C environment: .NET's own copy is not what libgomp reads
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // No libc to set it in: decoding is only slower.
        }
    }

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
