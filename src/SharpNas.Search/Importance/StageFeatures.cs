using System.Runtime.CompilerServices;
using SharpNas.Engine;

namespace SharpNas.Search.Importance;

/// <summary>
/// Turns a stage output [N, C, H, W] into features as the authors do: average-pool to a small spatial grid and
/// flatten each sample in (channel, row, column) order. The authors pool with window = stride = H/4 (a 4×4 grid);
/// here the grid is PyTorch's adaptive average pooling to target×target — bin i covers rows
/// ⌊i·H/target⌋ … ⌈(i+1)·H/target⌉ − 1 — which is exactly window = stride = H/target when target divides H, and
/// for other sizes (e.g. a 7×7 Fashion-MNIST stage) uses overlapping bins of sizes 2, 3, 3, 2. A side smaller
/// than the target is not up-sampled: its grid is the side itself (no duplicated features).
/// </summary>
public static class StageFeatures
{
    /// <summary>Pools one stage output [N, C, H, W] to [N, C·h·w] features (h = min(target, H), w = min(target, W)).</summary>
    public static FeatureMatrix Pool(Tensor stageOutput, int target = 4)
    {
        (int n, int columns) = PooledShape(stageOutput, target);
        var data = new float[n * columns];
        PoolInto(stageOutput, target, data);
        return FeatureMatrix.Wrap(data, n, columns);
    }

    /// <summary>The number of samples and of features <see cref="Pool"/> gives for <paramref name="stageOutput"/>.</summary>
    public static (int Samples, int Features) PooledShape(Tensor stageOutput, int target = 4)
    {
        ArgumentNullException.ThrowIfNull(stageOutput);
        if (target < 1) throw new ArgumentOutOfRangeException(nameof(target), target, "StageFeatures: target grid size must be >= 1");
        if (stageOutput.Rank != 4)
            throw new ArgumentException($"StageFeatures: expected a stage output [N, C, H, W], got {stageOutput.ShapeString}", nameof(stageOutput));
        int n = stageOutput.Dim(0), c = stageOutput.Dim(1), h = stageOutput.Dim(2), w = stageOutput.Dim(3);
        if (c < 1 || h < 1 || w < 1)
            throw new ArgumentException($"StageFeatures: stage output {stageOutput.ShapeString} has an empty channel or spatial dimension", nameof(stageOutput));
        return (n, c * Math.Min(target, h) * Math.Min(target, w));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PoolInto(Tensor stageOutput, int target, Span<float> destination)
    {
        int n = stageOutput.Dim(0), channels = stageOutput.Dim(1), h = stageOutput.Dim(2), w = stageOutput.Dim(3);
        int gh = Math.Min(target, h), gw = Math.Min(target, w);
        ReadOnlySpan<float> src = stageOutput.Span;
        int per = channels * gh * gw;
        for (int s = 0; s < n; s++)
            for (int c = 0; c < channels; c++)
            {
                ReadOnlySpan<float> plane = src.Slice((s * channels + c) * h * w, h * w);
                for (int i = 0; i < gh; i++)
                {
                    int r0 = i * h / gh, r1 = ((i + 1) * h + gh - 1) / gh;
                    for (int j = 0; j < gw; j++)
                    {
                        int c0 = j * w / gw, c1 = ((j + 1) * w + gw - 1) / gw;
                        double sum = 0;
                        for (int r = r0; r < r1; r++)
                            for (int k = c0; k < c1; k++) sum += plane[r * w + k];
                        destination[s * per + (c * gh + i) * gw + j] = (float)(sum / ((r1 - r0) * (c1 - c0)));
                    }
                }
            }
    }
}

/// <summary>Accumulates the pooled features of one stage over batches (append each batch's stage output, then
/// <see cref="Build"/>), so a whole training set can be scored without keeping its activations.</summary>
public sealed class StageFeatureBuilder
{
    private float[] _data = new float[1024];
    private int _rows;
    private int _columns = -1;
    private string _shape = "";

    /// <summary>A builder pooling to a target×target grid (default 4).</summary>
    public StageFeatureBuilder(int target = 4)
    {
        if (target < 1) throw new ArgumentOutOfRangeException(nameof(target), target, "StageFeatureBuilder: target grid size must be >= 1");
        Target = target;
    }

    /// <summary>The target grid side.</summary>
    public int Target { get; }

    /// <summary>Samples appended so far.</summary>
    public int Rows => _rows;

    /// <summary>Features per sample (0 before the first batch).</summary>
    public int Columns => Math.Max(_columns, 0);

    /// <summary>Pools a batch's stage output [N, C, H, W] and appends its N rows. Every batch must have the same C, H, W.</summary>
    public void Append(Tensor stageOutput)
    {
        (int n, int columns) = StageFeatures.PooledShape(stageOutput, Target);
        string shape = $"[C={stageOutput.Dim(1)}, H={stageOutput.Dim(2)}, W={stageOutput.Dim(3)}]";
        if (_columns < 0) { _columns = columns; _shape = shape; }
        else if (shape != _shape)
            throw new ArgumentException($"StageFeatureBuilder: batch {stageOutput.ShapeString} has {shape}, earlier batches had {_shape}", nameof(stageOutput));
        long needed = (long)(_rows + n) * columns;
        if (needed > Array.MaxLength) throw new InvalidOperationException($"StageFeatureBuilder: {_rows + n} × {columns} features exceed the largest array");
        if (needed > _data.Length)
            Array.Resize(ref _data, (int)Math.Min(Array.MaxLength, Math.Max(needed, 2L * _data.Length)));
        StageFeatures.PoolInto(stageOutput, Target, _data.AsSpan(_rows * columns, n * columns));
        _rows += n;
    }

    /// <summary>The rows appended so far, as a feature matrix (a copy; the builder can go on appending).</summary>
    public FeatureMatrix Build()
    {
        if (_rows == 0) throw new InvalidOperationException("StageFeatureBuilder: no batch was appended");
        return FeatureMatrix.Wrap(_data.AsSpan(0, _rows * _columns).ToArray(), _rows, _columns);
    }
}
