using System.Runtime.InteropServices;

namespace SharpNas.Engine.Parallel;

/// <summary>What a <see cref="WorkerScratch"/> buffer is for. Kernels that run at the same time on one
/// participant must use different slots; add a member for each new kernel that needs scratch memory.</summary>
internal enum ScratchSlot
{
    /// <summary>SGEMM: the packed block of op(A) (MC × KC floats, in MR-row panels).</summary>
    GemmPackA,

    /// <summary>SGEMM: the packed block of op(B) (KC × NC floats, in NR-column panels).</summary>
    GemmPackB,
}

/// <summary>
/// Native, 64-byte-aligned scratch memory owned by one participant of a <see cref="WorkerPool"/>: kernels
/// use it for packing buffers, so that a steady-state call allocates nothing. Buffers only grow; their
/// contents are undefined between calls. Not thread-safe: one participant index is used by one thread at a time.
/// </summary>
internal sealed unsafe class WorkerScratch : IDisposable
{
    private const nuint Alignment = 64;
    private static readonly int SlotCount = Enum.GetValues<ScratchSlot>().Length;

    private readonly void*[] _buffers = new void*[SlotCount];
    private readonly nuint[] _bytes = new nuint[SlotCount];
    private bool _disposed;

    /// <summary>A buffer of at least <paramref name="count"/> floats for <paramref name="slot"/>, 64-byte aligned.
    /// It stays valid until the next call for the same slot or until the pool is disposed.</summary>
    public float* Floats(ScratchSlot slot, nint count)
    {
        int i = (int)slot;
        nuint bytes = (nuint)Math.Max(count, 1) * sizeof(float);
        if (_bytes[i] < bytes)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Grow geometrically so a sequence of slowly growing shapes reallocates only a few times.
            nuint size = Math.Max(bytes, _bytes[i] + _bytes[i] / 2);
            size = (size + Alignment - 1) & ~(Alignment - 1);
            NativeMemory.AlignedFree(_buffers[i]);
            _buffers[i] = null;
            _bytes[i] = 0;
            _buffers[i] = NativeMemory.AlignedAlloc(size, Alignment);
            _bytes[i] = size;
        }
        return (float*)_buffers[i];
    }

    /// <summary>Frees every buffer.</summary>
    public void Dispose()
    {
        _disposed = true;
        Free();
        GC.SuppressFinalize(this);
    }

    ~WorkerScratch() => Free();

    private void Free()
    {
        for (int i = 0; i < _buffers.Length; i++)
        {
            NativeMemory.AlignedFree(_buffers[i]);
            _buffers[i] = null;
            _bytes[i] = 0;
        }
    }
}
