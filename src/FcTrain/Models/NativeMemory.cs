using System.Runtime.InteropServices;

namespace FcTrain.Models;

/// <summary>
/// glibc malloc settings for training and decoding on CPU. By default glibc returns freed memory to the kernel eagerly (heap trim,
/// and mmap for large blocks whose threshold only grows as blocks are freed), so a training step that allocates and
/// frees the same tensors every time spends much of its time in page faults. Fixing the mmap threshold at its maximum
/// (32 MB: the head's logit chunks, just under it, and the attention scores come from the heap) and keeping up to 256 MB of
/// freed memory at the top of the heap lets the next step reuse this step's buffers. The keep is bounded because
/// whatever it holds adds to the process's peak RSS (docs/performance.md).
/// </summary>
internal static partial class NativeMemory
{
    private const int TrimThreshold = -1, MmapThreshold = -3;   // mallopt parameters (malloc.h)

    public static void KeepFreedMemoryForReuse()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            mallopt(MmapThreshold, 32 << 20);
            mallopt(TrimThreshold, 256 << 20);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (e.g. musl): its allocator has no such knobs; training is only slower.
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int param, int value);
}
