using System.Runtime.CompilerServices;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Parallel;

namespace SharpNas.Engine;

/// <summary>
/// A dense, contiguous, row-major float32 tensor (images are NCHW). The data lives in a <c>float[]</c> at an
/// offset, so reshapes and batch slices are views that share it. A tensor created inside a
/// <see cref="TensorScope"/> takes its buffer from the scope's <see cref="TensorPool"/> and gives it back when
/// the scope ends; parameters and anything created outside a scope own plain arrays.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;
    internal float[] Buffer;
    internal readonly int Offset;
    /// <summary>The tensor whose buffer this view shares, or null if this tensor owns it.</summary>
    internal readonly Tensor? Base;

    /// <summary>The pool this tensor's buffer was rented from (null for owned arrays and views).</summary>
    internal TensorPool? Pool;

    /// <summary>The autograd node that produced this tensor (null for leaves and tensors made without grad).</summary>
    internal Node? GradFn;

    /// <summary>Number of elements.</summary>
    public int Size { get; }

    /// <summary>Optional name used in error messages (parameters carry their state-dict name).</summary>
    public string? Name { get; set; }

    /// <summary>Whether gradients flow to this tensor. Set it on leaves (parameters, inputs you differentiate).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>dLoss/dThis after <see cref="Backward"/>; same shape as the tensor.</summary>
    public Tensor? Grad { get; set; }

    internal Tensor(int[] shape, float[] buffer, int offset, Tensor? viewOf)
    {
        _shape = shape;
        Size = ShapeSize(shape, "Tensor");
        if (offset < 0 || offset + Size > buffer.Length)
            throw new ArgumentException($"Tensor: buffer of {buffer.Length} floats at offset {offset} cannot hold shape {Format(shape)}");
        Buffer = buffer;
        Offset = offset;
        Base = viewOf;
    }

    // ---- creation -------------------------------------------------------------------------------------

    /// <summary>A tensor with uninitialised contents (from the current scope's pool when there is one).</summary>
    public static Tensor Empty(params int[] shape)
    {
        int[] s = (int[])shape.Clone();
        int size = ShapeSize(s, "Tensor.Empty");
        TensorScope? scope = TensorScope.Current;
        if (scope is null) return new Tensor(s, new float[size], 0, null);
        var t = new Tensor(s, scope.Pool.Rent(size), 0, null) { Pool = scope.Pool };
        scope.Track(t);
        return t;
    }

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(params int[] shape)
    {
        Tensor t = Empty(shape);
        ParallelSpans.Clear(t.Span);
        return t;
    }

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(float value, params int[] shape)
    {
        Tensor t = Empty(shape);
        t.Span.Fill(value);
        return t;
    }

    /// <summary>Wraps <paramref name="data"/> without copying; the caller keeps ownership of the array.</summary>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        int[] s = (int[])shape.Clone();
        int size = ShapeSize(s, "Tensor.FromArray");
        if (size > data.Length)
            throw new ArgumentException($"Tensor.FromArray: shape {Format(s)} needs {size} values, the array has {data.Length}");
        return new Tensor(s, data, 0, null);
    }

    /// <summary>A copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromValues(ReadOnlySpan<float> values, params int[] shape)
    {
        Tensor t = Empty(shape);
        if (values.Length != t.Size)
            throw new ArgumentException($"Tensor.FromValues: shape {Format(shape)} needs {t.Size} values, got {values.Length}");
        values.CopyTo(t.Span);
        return t;
    }

    // ---- shape ----------------------------------------------------------------------------------------

    /// <summary>The shape (do not modify).</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>A copy of the shape.</summary>
    public int[] ShapeArray => (int[])_shape.Clone();

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Size of dimension <paramref name="dim"/> (negative counts from the end).</summary>
    public int Dim(int dim)
    {
        int d = dim < 0 ? dim + _shape.Length : dim;
        if ((uint)d >= (uint)_shape.Length)
            throw new ArgumentOutOfRangeException(nameof(dim), $"Tensor.Dim: dimension {dim} does not exist in a tensor of shape {ShapeString}");
        return _shape[d];
    }

    /// <summary>The elements as a span (row-major). Throws if the tensor's scope has ended (its buffer went back to
    /// the pool and may already hold another tensor's data).</summary>
    public Span<float> Span
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            if (IsReleased) ThrowReleased();
            return Buffer.AsSpan(Offset, Size);
        }
    }

    /// <summary>The marker a <see cref="TensorScope"/> puts in place of the buffer it takes back (a distinct
    /// empty array, so that genuinely empty tensors are not mistaken for released ones).</summary>
    internal static readonly float[] ReleasedBuffer = new float[0];

    /// <summary>True once the scope that owned this tensor's buffer (or its base's) has been disposed, or the buffer was
    /// released early (<see cref="Release"/>).</summary>
    internal bool IsReleased => ReferenceEquals(Buffer, ReleasedBuffer) || (Base is not null && !ReferenceEquals(Base.Buffer, Buffer));

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowReleased() =>
        throw new InvalidOperationException($"Tensor{ShapeString}{(Name is null ? "" : " " + Name)} was used after its buffer went back to the pool (the TensorScope that created it was disposed, or it was released as dead with Tensor.Release); read results before the scope ends or keep the tensor with TensorScope.Keep");

    /// <summary>The single value of a one-element tensor.</summary>
    public float Item()
    {
        if (Size != 1) throw new InvalidOperationException($"Tensor.Item: tensor of shape {ShapeString} has {Size} elements, expected 1");
        return Span[0];
    }

    /// <summary>A copy of the elements.</summary>
    public float[] ToArray() => Span.ToArray();

    /// <summary>The shape as text, e.g. <c>[2, 3, 8, 8]</c>.</summary>
    public string ShapeString => Format(_shape);

    /// <inheritdoc/>
    public override string ToString() => $"Tensor{ShapeString}{(Name is null ? "" : " " + Name)}";

    /// <summary>Whether this tensor has exactly <paramref name="shape"/>.</summary>
    public bool HasShape(ReadOnlySpan<int> shape) => shape.SequenceEqual(_shape);

    /// <summary>A view with another shape and the same elements (one dimension may be -1).</summary>
    public Tensor Reshape(params int[] shape) => Functional.F.Reshape(this, shape);

    /// <summary>A view of samples [<paramref name="start"/>, <paramref name="start"/>+<paramref name="count"/>)
    /// along dimension 0. Not differentiable: use it on data, not inside a graph.</summary>
    public Tensor Slice0(int start, int count)
    {
        if (IsReleased) ThrowReleased();
        if (Rank == 0 || start < 0 || count < 0 || start + count > _shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"Tensor.Slice0: [{start}, {start + count}) is outside dimension 0 of {ShapeString}");
        int inner = _shape[0] == 0 ? 0 : Size / _shape[0];
        int[] s = (int[])_shape.Clone();
        s[0] = count;
        return new Tensor(s, Buffer, Offset + start * inner, Base ?? this);
    }

    /// <summary>A view on the same data that is not part of any graph and does not require grad.</summary>
    public Tensor Detach()
    {
        if (IsReleased) ThrowReleased();
        return new(_shape, Buffer, Offset, Base ?? this) { Name = Name };
    }

    /// <summary>A new tensor (own buffer) holding a copy of the data, outside any graph.</summary>
    public Tensor Clone()
    {
        Tensor t = Empty(_shape);
        Span.CopyTo(t.Span);
        return t;
    }

    /// <summary>Copies the values of <paramref name="source"/> (same shape) into this tensor, outside any graph.</summary>
    public void CopyFrom(Tensor source)
    {
        if (!source.HasShape(_shape))
            throw new ArgumentException($"Tensor.CopyFrom: source {source.ShapeString} does not match {ShapeString}{(Name is null ? "" : " (" + Name + ")")}");
        source.Span.CopyTo(Span);
    }

    // ---- autograd -------------------------------------------------------------------------------------

    /// <summary>Back-propagates from this scalar (gradient 1) or with the given upstream gradient.</summary>
    public void Backward(Tensor? gradient = null) => Autograd.Backprop.Run(this, gradient);

    /// <summary>Adds <paramref name="g"/> into <see cref="Grad"/>; the first gradient is copied into a new buffer
    /// (no zero-fill and no add).</summary>
    internal void AccumulateGrad(ReadOnlySpan<float> g)
    {
        Span<float> dst = GradSpanForWrite(out bool fresh);
        if (fresh) ParallelSpans.Copy(g, dst);
        else ParallelSpans.Zip(dst, g, dst, System.Numerics.Tensors.TensorPrimitives.Add);
    }

    /// <summary>The gradient buffer for an op that writes every element of it: when <paramref name="fresh"/> the
    /// buffer was just created and holds anything (the op stores its gradient), else it holds earlier gradients
    /// (the op adds to them).</summary>
    internal Span<float> GradSpanForWrite(out bool fresh)
    {
        fresh = Grad is null;
        Grad ??= NewGradBuffer(zeroed: false);
        return Grad.Span;
    }

    /// <summary>The gradient buffer, created as zeros on first use, for kernels that add into it.</summary>
    internal Span<float> GradSpanForAccumulation()
    {
        Grad ??= NewGradBuffer(zeroed: true);
        return Grad.Span;
    }

    /// <summary>A gradient buffer of this tensor's shape: leaves (parameters) get a permanent one, zeroed;
    /// intermediates one from the current scope, zeroed only when <paramref name="zeroed"/>.</summary>
    private Tensor NewGradBuffer(bool zeroed) =>
        GradFn is null && TensorScope.Current is not null ? new Tensor((int[])_shape.Clone(), new float[Size], 0, null)
        : zeroed ? Zeros(_shape)
        : Empty(_shape);

    /// <summary>Hands this intermediate tensor's gradient buffer back to its pool before the step ends (backprop
    /// calls it once the gradient has been consumed); <see cref="Grad"/> becomes null. Gradients not rented from a
    /// pool (leaves, tensors outside a scope) are left alone.</summary>
    internal void ReleaseGrad()
    {
        Tensor? g = Grad;
        if (g?.Pool is null || GradFn is null || ReferenceEquals(g.Buffer, ReleasedBuffer)) return;
        g.Pool.Return(g.Buffer);
        g.Buffer = ReleasedBuffer;
        Grad = null;
    }

    /// <summary>
    /// Says that nothing will read this tensor again, so that a forward pass without autograd reuses its memory at once:
    /// a buffer rented from a step's <see cref="TensorPool"/> goes back to it now rather than when the scope ends, and the
    /// next tensor of the same size takes it (using this tensor, or a view of it, afterwards throws, as after its scope).
    /// A module calls it on an intermediate it created itself once the intermediate's last reader has run — never on its
    /// input, its output or a tensor it keeps in a field (as <see cref="Models.BasicBlock.LastAddition"/>).
    /// <para>It does nothing, and the buffer lives until the scope ends as before, while gradients are recorded or when
    /// this tensor belongs to a graph (a backward pass may read it), for views and tensors not rented from a pool, for
    /// tensors detached with <see cref="TensorScope.Keep"/>, and when <paramref name="result"/> shares its buffer (the
    /// reader returned this tensor itself or a view of it). Training is therefore unaffected.</para>
    /// </summary>
    /// <param name="result">What the last reader returned; the buffer is kept if it is (a view of) this tensor.</param>
    public void Release(Tensor? result = null)
    {
        if (GradMode.IsEnabled || GradFn is not null || RequiresGrad) return;
        if (result is not null && ReferenceEquals(result.Buffer, Buffer)) return;
        ReturnToPool();
    }

    /// <summary>Gives this pool-rented temporary's buffer back before the scope ends; using it afterwards throws.
    /// Owned arrays and views are left alone.</summary>
    internal void ReturnToPool()
    {
        if (Pool is null || Base is not null || ReferenceEquals(Buffer, ReleasedBuffer)) return;
        Pool.Return(Buffer);
        Buffer = ReleasedBuffer;
    }

    internal static int ShapeSize(ReadOnlySpan<int> shape, string op)
    {
        long size = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"{op}: negative dimension in shape {Format(shape)}");
            size *= d;
            if (size > Array.MaxLength) throw new ArgumentException($"{op}: shape {Format(shape)} has too many elements");
        }
        return (int)size;
    }

    internal static string Format(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";
}
