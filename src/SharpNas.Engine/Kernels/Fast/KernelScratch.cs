using System.Runtime.InteropServices;

namespace SharpNas.Engine.Kernels.Fast;

/// <summary>What a <see cref="KernelScratch"/> buffer holds. Buffers used at the same time by one participant
/// need different slots.</summary>
internal enum KernelSlot
{
    /// <summary>Conv: the im2col matrix of one sample and group, [Cin/groups·KH·KW, OH·OW].</summary>
    Columns,
    /// <summary>Conv backward-weight: this participant's partial weight gradient, [Cout, Cin/groups·KH·KW].</summary>
    WeightPartial,
    /// <summary>Depthwise / pooling: one zero- or −∞-padded input (or gradient) plane (see <see cref="PlaneGeometry"/>);
    /// conv: the zero-padded input of one sample-group (see <see cref="ConvColumns"/>).</summary>
    Padded,
    /// <summary>Conv: the offset of every tap (c, kh, kw) in the padded input, [Cin/groups·KH·KW] ints.</summary>
    ColumnOffsets,
    /// <summary>Conv backward-input at stride 1: the flipped, channel-swapped weights, [Cin, Cout/groups, KH, KW].</summary>
    FlippedWeights,
    /// <summary>Conv forward on the grid: the weights in tile-row panels (see <see cref="DirectConv"/>).</summary>
    PackedWeights,
    /// <summary>Depthwise / pooling: one output plane with the padded row stride, or its gradient with zeroed margins.</summary>
    Run,
    /// <summary>Depthwise backward-weight: per-tap float64 accumulators.</summary>
    Accumulators,
    /// <summary>Average pooling: 1/divisor of each output position.</summary>
    InverseDivisors,
    /// <summary>Max-pool backward: the padded input gradient of one plane.</summary>
    PaddedGradient,
    /// <summary>Max-pool backward: the output gradient of one plane laid out as a single run.</summary>
    RunGradient,
    /// <summary>Max-pool backward: which outputs of a run have routed their gradient (all bits set) or not (zero).</summary>
    Claimed,
}

/// <summary>
/// Native, 64-byte-aligned scratch memory of the fast kernels, one set of <see cref="KernelSlot"/> buffers per
/// participant of the kernels' worker pool. Used only inside a pool job, by the participant that owns it, so a
/// steady-state kernel call allocates nothing and concurrent callers are serialised by the pool. Buffers only grow.
/// </summary>
internal sealed unsafe class KernelScratch
{
    private const nuint Alignment = 64;
    private static readonly int SlotCount = Enum.GetValues<KernelSlot>().Length;

    private readonly void*[] _buffers;
    private readonly nuint[] _bytes;

    public KernelScratch(int participants)
    {
        _buffers = new void*[participants * SlotCount];
        _bytes = new nuint[participants * SlotCount];
    }

    /// <summary>A buffer of at least <paramref name="count"/> floats (contents undefined) for <paramref name="slot"/>
    /// of <paramref name="participant"/>; valid until the next request of the same slot by the same participant.</summary>
    public float* Floats(int participant, KernelSlot slot, nint count)
    {
        int i = participant * SlotCount + (int)slot;
        nuint bytes = (nuint)Math.Max(count, 1) * sizeof(float);
        if (_bytes[i] < bytes)
        {
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

    /// <summary>A buffer of at least <paramref name="count"/> doubles (same rules as <see cref="Floats"/>).</summary>
    public double* Doubles(int participant, KernelSlot slot, nint count) => (double*)Floats(participant, slot, 2 * count);

    ~KernelScratch()
    {
        for (int i = 0; i < _buffers.Length; i++) NativeMemory.AlignedFree(_buffers[i]);
    }
}
