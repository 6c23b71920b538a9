namespace SharpNas.Engine;

/// <summary>
/// Reuses tensor buffers by exact length, so that a training step in steady state allocates no tensor data on
/// the managed heap. Open a <see cref="TensorScope"/> per step with <see cref="BeginStep"/>; every tensor created
/// inside it is returned here when the scope is disposed. Counters let tests assert the steady state.
/// A pool is used by one thread at a time.
/// </summary>
public sealed class TensorPool
{
    private readonly Dictionary<int, Stack<float[]>> _free = [];

    /// <summary>Buffers handed out.</summary>
    public long Rented { get; private set; }
    /// <summary>Buffers given back.</summary>
    public long Returned { get; private set; }
    /// <summary>Bytes of new arrays the pool had to allocate (stops growing in steady state).</summary>
    public long BytesAllocated { get; private set; }
    /// <summary>Bytes of the buffers handed out and not given back yet (tensors kept with <see cref="TensorScope.Keep"/>
    /// stay counted).</summary>
    public long BytesInUse { get; private set; }
    /// <summary>The most <see cref="BytesInUse"/> has been: what a step needs at once, the figure that buffers released
    /// before the end of the step (<see cref="Tensor.Release"/>) bring down.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>Opens a scope: tensors created on this thread until it is disposed come from this pool and go back to it.</summary>
    public TensorScope BeginStep() => new(this);

    internal float[] Rent(int length)
    {
        Rented++;
        BytesInUse += 4L * length;
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
        if (_free.TryGetValue(length, out Stack<float[]>? stack) && stack.Count > 0) return stack.Pop();
        BytesAllocated += 4L * length;
        return new float[length];
    }

    internal void Return(float[] buffer)
    {
        Returned++;
        BytesInUse -= 4L * buffer.Length;
        if (!_free.TryGetValue(buffer.Length, out Stack<float[]>? stack)) _free[buffer.Length] = stack = new Stack<float[]>();
        stack.Push(buffer);
    }

    /// <summary>Drops every cached buffer (e.g. after evaluating a model of another size).</summary>
    public void Trim() => _free.Clear();

    /// <summary>
    /// Gives the memory of pools nobody holds any more back to the operating system: a full, compacting collection.
    /// Pools hold whole activation sets (hundreds of MB at batch 256), and a process that trains and evaluates many
    /// networks in turn (a search) would otherwise keep several dead ones until the collector happens to run; call it
    /// between phases (after training, after evaluating), never per step.
    /// </summary>
    public static void ReleaseUnused() => GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
}

/// <summary>
/// The lifetime of the tensors of one step: created inside the scope, they return their buffers to the pool when
/// it is disposed and must not be used afterwards (read losses and metrics before). Scopes nest per thread.
/// A tensor can be kept alive past the scope with <see cref="Keep"/>.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] private static TensorScope? t_current;
    private readonly TensorScope? _parent;
    private readonly List<Tensor> _tracked = new(1024);
    private bool _disposed;

    internal TensorPool Pool { get; }

    internal static TensorScope? Current => t_current;

    internal TensorScope(TensorPool pool)
    {
        Pool = pool;
        _parent = t_current;
        t_current = this;
    }

    internal void Track(Tensor t) => _tracked.Add(t);

    /// <summary>Detaches <paramref name="t"/> from this scope so its buffer survives it (it then belongs to the GC, and
    /// <see cref="Tensor.Release"/> leaves it alone).</summary>
    public Tensor Keep(Tensor t)
    {
        int i = _tracked.LastIndexOf(t);
        if (i >= 0)
        {
            _tracked.RemoveAt(i);
            t.Pool = null;
        }
        return t;
    }

    /// <summary>Returns every tensor created in the scope to the pool.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (Tensor t in _tracked)
        {
            // Gradients released early by backprop went back to the pool already.
            if (!ReferenceEquals(t.Buffer, Tensor.ReleasedBuffer)) Pool.Return(t.Buffer);
            t.Buffer = Tensor.ReleasedBuffer;
            t.GradFn = null;
            t.Grad = null;
        }
        _tracked.Clear();
        t_current = _parent;
    }
}
