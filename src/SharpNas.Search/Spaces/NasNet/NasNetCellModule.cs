using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
using SharpNas.Training.Cost;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// A trainable NASNet cell: <c>Forward(current, previous)</c> takes the output of the cell before (h0's source) and of
/// the one before that (h1's source), and returns the concatenation of the cell's output states.
/// <list type="bullet">
/// <item>h0 = ReLU-1×1 conv-BN(current) to F channels (<c>h0_adjust</c>);</item>
/// <item>h1 = factorized reduction of <c>previous</c> when its resolution is higher than h0's, else ReLU-1×1 conv-BN when
/// its channels are not F, else <c>previous</c> itself (<c>h1_adjust</c>); in the first cell, which has no earlier input,
/// h1 is the current input itself, unadjusted (as in the authors' code, so that cell's ops on h1 see the stem's
/// channels);</item>
/// <item>block b = op1(state input1) + op2(state input2) (or their concatenation), ops <c>comb_iter_{b}_left</c> and
/// <c>comb_iter_{b}_right</c>; in a reduction cell ops reading h0 or h1 have stride 2;</item>
/// <item>drop-path (per example) on the output of every op except <see cref="NasNetOp.Identity"/>, with probability
/// <see cref="DropProbability"/>, in training mode only;</item>
/// <item>before the final concatenation, an output state whose resolution or width differs from the last block's is
/// brought to it, as the authors' code does (<c>output_reduce_{s}</c>): a factorized reduction (without ReLU) for h0 or h1
/// of a reduction cell, else a 1×1 conv and BN (e.g. the first cell's unadjusted h1).</item>
/// </list>
/// </summary>
public sealed class NasNetCellModule : Module<Tensor, Tensor, Tensor>
{
    private readonly NasNetCell _cell;
    private readonly Module<Tensor, Tensor> _h0Adjust;
    private readonly Module<Tensor, Tensor>? _h1Adjust;
    private readonly Module<Tensor, Tensor>[] _left, _right;
    private readonly Module<Tensor, Tensor>?[] _outputReduce;
    /// <summary>Per state, the last block with an op that begins with ReLU(state) (<see cref="IReluFirst"/>): the
    /// shared ReLU is released after it.</summary>
    private readonly int[] _lastReluReader;
    private SeededRandom _dropRng = new(0);

    /// <summary>The cell's genotype.</summary>
    public NasNetCell Cell => _cell;

    /// <summary>True for a reduction cell (stride 2 on ops reading h0/h1).</summary>
    public bool IsReduction { get; }

    /// <summary>F: channels of every op's output.</summary>
    public int Filters { get; }

    /// <summary>Channels of the cell's output.</summary>
    public int OutChannels { get; }

    /// <summary>Drop-path probability of each op output in training mode (set by ScheduledDropPath through
    /// <see cref="NasNetNetwork.SetTrainingProgress"/>; 0 disables it).</summary>
    public float DropProbability
    {
        get;
        set => field = value is >= 0f and < 1f ? value
            : throw new ArgumentOutOfRangeException(nameof(value), $"NasNetCellModule: drop probability must be in [0, 1), got {value}");
    }

    /// <summary>Builds the cell for inputs of <paramref name="currentChannels"/> and <paramref name="previousChannels"/>
    /// channels; <paramref name="previousIsLarger"/> says the previous input has twice the current one's resolution.
    /// <paramref name="previousChannels"/> null marks the first cell: h1 is then the current input, unadjusted, and
    /// <see cref="Forward"/> ignores its second argument.</summary>
    public NasNetCellModule(NasNetCell cell, bool reduction, int filters, int currentChannels, int? previousChannels, bool previousIsLarger)
    {
        _cell = cell;
        IsReduction = reduction;
        Filters = filters;
        IsFirst = previousChannels is null;
        _h0Adjust = RegisterModule("h0_adjust", new ReluConvBn(currentChannels, filters, 1, 1, 1));
        if (previousChannels is int pc)
        {
            if (previousIsLarger) _h1Adjust = RegisterModule("h1_adjust", new FactorizedReduction(pc, filters));
            else if (pc != filters) _h1Adjust = RegisterModule("h1_adjust", new ReluConvBn(pc, filters, 1, 1, 1));
        }
        int h1Channels = H1Channels(filters, currentChannels, previousChannels);
        int[] channels = StateChannels(cell, filters, h1Channels);
        int blocks = cell.Blocks.Count;
        _left = new Module<Tensor, Tensor>[blocks];
        _right = new Module<Tensor, Tensor>[blocks];
        for (int b = 0; b < blocks; b++)
        {
            NasNetBlock k = cell.Blocks[b];
            _left[b] = RegisterModule($"comb_iter_{b}_left", NasNetOps.Create(k.Op1, channels[k.Input1], filters, Stride(reduction, k.Input1)));
            _right[b] = RegisterModule($"comb_iter_{b}_right", NasNetOps.Create(k.Op2, channels[k.Input2], filters, Stride(reduction, k.Input2)));
        }
        _lastReluReader = new int[cell.StateCount];
        for (int b = 0; b < blocks; b++)
        {
            if (_left[b] is IReluFirst) _lastReluReader[cell.Blocks[b].Input1] = b;
            if (_right[b] is IReluFirst) _lastReluReader[cell.Blocks[b].Input2] = b;
        }
        _outputReduce = new Module<Tensor, Tensor>?[cell.StateCount];
        int width = channels[^1];
        foreach (int s in cell.OutputStates)
        {
            if (reduction && s < 2) _outputReduce[s] = RegisterModule($"output_reduce_{s}", new FactorizedReduction(channels[s], width, relu: false));
            else if (channels[s] != width) _outputReduce[s] = RegisterModule($"output_reduce_{s}", new ConvBn(channels[s], width));
        }
        OutChannels = OutputChannels(cell, filters, h1Channels, reduction);
    }

    /// <summary>True for the first cell, whose h1 is its current input.</summary>
    public bool IsFirst { get; }

    private static int H1Channels(int filters, int currentChannels, int? previousChannels) => previousChannels is null ? currentChannels : filters;

    private static int Stride(bool reduction, int input) => reduction && input < 2 ? 2 : 1;

    /// <summary>Channels of each state: F for h0 and added blocks, 2F for concatenated blocks, and for h1 F or, in the
    /// first cell, the channels of the input (<paramref name="h1Channels"/>).</summary>
    public static int[] StateChannels(NasNetCell cell, int filters, int? h1Channels = null)
    {
        var c = new int[cell.StateCount];
        c[0] = filters;
        c[1] = h1Channels ?? filters;
        for (int b = 0; b < cell.Blocks.Count; b++) c[2 + b] = cell.Blocks[b].Combine == NasNetCombine.Add ? filters : 2 * filters;
        return c;
    }

    /// <summary>Channels of the cell's output with F = <paramref name="filters"/> (output states that are projected take
    /// the last block's width).</summary>
    public static int OutputChannels(NasNetCell cell, int filters, int? h1Channels = null, bool reduction = false)
    {
        int[] c = StateChannels(cell, filters, h1Channels);
        return cell.OutputStates.Sum(s => reduction && s < 2 ? c[^1] : c[s] != c[^1] ? c[^1] : c[s]);
    }

    /// <summary>Adds the cost of the cell built with the same arguments, on a current input of
    /// <paramref name="h"/>×<paramref name="w"/> (the previous input is twice that when <paramref name="previousIsLarger"/>);
    /// returns the output channels and size.</summary>
    public static (int Channels, int H, int W) Count(CostCounter c, NasNetCell cell, bool reduction, int filters, int currentChannels,
        int? previousChannels, bool previousIsLarger, int h, int w, int previousH, int previousW)
    {
        ReluConvBn.Count(c, currentChannels, filters, h, w, 1, 1, 1);
        if (previousChannels is int pc)
        {
            if (previousIsLarger) FactorizedReduction.Count(c, pc, filters, previousH, previousW);
            else if (pc != filters) ReluConvBn.Count(c, pc, filters, h, w, 1, 1, 1);
        }
        int h1Channels = H1Channels(filters, currentChannels, previousChannels);
        int[] channels = StateChannels(cell, filters, h1Channels);
        (int oh, int ow) = reduction ? (NasNetOps.OutSize(h, 1, 2), NasNetOps.OutSize(w, 1, 2)) : (h, w);
        for (int b = 0; b < cell.Blocks.Count; b++)
        {
            NasNetBlock k = cell.Blocks[b];
            (int h1, int w1) = k.Input1 < 2 ? (h, w) : (oh, ow);
            (int h2, int w2) = k.Input2 < 2 ? (h, w) : (oh, ow);
            NasNetOps.Count(c, k.Op1, channels[k.Input1], filters, h1, w1, Stride(reduction, k.Input1));
            NasNetOps.Count(c, k.Op2, channels[k.Input2], filters, h2, w2, Stride(reduction, k.Input2));
            c.Elementwise(channels[2 + b], oh, ow);   // the add or concat
        }
        int width = channels[^1];
        foreach (int s in cell.OutputStates)
        {
            if (reduction && s < 2) FactorizedReduction.Count(c, channels[s], width, h, w, relu: false);
            else if (channels[s] != width) ConvBn.Count(c, channels[s], width, oh, ow);
        }
        int outChannels = OutputChannels(cell, filters, h1Channels, reduction);
        if (cell.OutputStates.Count > 1) c.Elementwise(outChannels, oh, ow);
        return (outChannels, oh, ow);
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng) => _dropRng = rng.Derive("drop_path");

    /// <summary>Runs the cell on the previous cell's output (<paramref name="current"/>) and the output before that
    /// (<paramref name="previous"/>).</summary>
    public override Tensor Forward(Tensor current, Tensor previous)
    {
        var states = new Tensor[_cell.StateCount];
        states[0] = _h0Adjust.Forward(current);
        states[1] = IsFirst ? current : _h1Adjust is null ? previous : _h1Adjust.Forward(previous);
        // ReLU(state) computed once for all the ops of the cell that begin with it (IReluFirst), released after the
        // last block that reads it.
        var relus = new Tensor?[states.Length];
        for (int b = 0; b < _left.Length; b++)
        {
            NasNetBlock k = _cell.Blocks[b];
            Tensor left = DropPath(Apply(_left[b], states, relus, k.Input1), k.Op1);
            Tensor right = DropPath(Apply(_right[b], states, relus, k.Input2), k.Op2);
            states[2 + b] = k.Combine == NasNetCombine.Add ? F.Add(left, right) : F.ConcatChannels(left, right);
            // Without autograd the op outputs are dead once combined (an identity op's output is a state: kept).
            if (!ReferenceEquals(left, states[k.Input1])) left.Release(states[2 + b]);
            if (!ReferenceEquals(right, states[k.Input2])) right.Release(states[2 + b]);
            ReleaseReluAfter(relus, k.Input1, b);
            ReleaseReluAfter(relus, k.Input2, b);
        }
        IReadOnlyList<int> outputs = _cell.OutputStates;
        var parts = new Tensor[outputs.Count];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = _outputReduce[outputs[i]] is { } reduce ? reduce.Forward(states[outputs[i]]) : states[outputs[i]];
        Tensor result = parts.Length == 1 ? parts[0] : F.ConcatChannels(parts);
        // Release what this cell created (its inputs and result belong to the caller).
        foreach (Tensor part in parts)
            if (Array.IndexOf(states, part) < 0) part.Release(result);
        foreach (Tensor state in states)
            if (!ReferenceEquals(state, current) && !ReferenceEquals(state, previous)) state.Release(result);
        return result;
    }

    /// <summary>Releases the shared ReLU of <paramref name="state"/> if <paramref name="block"/> was its last reader (only
    /// a block's own inputs can be).</summary>
    private void ReleaseReluAfter(Tensor?[] relus, int state, int block)
    {
        if (_lastReluReader[state] != block || relus[state] is not { } relu) return;
        relu.Release();
        relus[state] = null;
    }

    private static Tensor Apply(Module<Tensor, Tensor> op, Tensor[] states, Tensor?[] relus, int input) =>
        op is IReluFirst reluFirst ? reluFirst.ForwardAfterRelu(relus[input] ??= F.Relu(states[input])) : op.Forward(states[input]);

    private Tensor DropPath(Tensor x, NasNetOp op) =>
        op == NasNetOp.Identity || !Training || DropProbability == 0f ? x : F.DropPath(x, DropProbability, true, _dropRng);
}
