namespace FcTrain.Models;

/// <summary>
/// Scratch space in native memory for the CPU kernels (<see cref="HeadPanels"/>): 64-byte aligned, zeroed, freed on
/// Dispose. The kernels need buffers of tens to hundreds of kB at every call; as managed arrays they would land on the
/// large or pinned object heap and trigger a full garbage collection every few steps, and every collection runs
/// finalizers, among them TorchSharp's for the temporary Scalars of operators that may still be in a native call.
/// </summary>
public readonly unsafe struct NativeBuffer<T> : IDisposable where T : unmanaged
{
    public T* Data { get; }
    public long Length { get; }

    public NativeBuffer(long length)
    {
        nuint bytes = (nuint)(Math.Max(1, length) * sizeof(T));
        Data = (T*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(bytes, 64);
        System.Runtime.InteropServices.NativeMemory.Clear(Data, bytes);
        Length = length;
    }

    public ref T this[long index] => ref Data[index];

    public void Dispose() => System.Runtime.InteropServices.NativeMemory.AlignedFree(Data);
}
