namespace SharpNas.Training.Cost;

/// <summary>
/// Cost of an architecture as the NAS papers count it. <see cref="Macs"/> counts multiply-accumulates of conv and
/// dense layers only (a separable conv is its depthwise plus its pointwise part); <see cref="Depth"/> counts conv and
/// dense layers; <see cref="ActivationsPerSample"/> is the number of output elements of every layer (conv, BN, ReLU,
/// pooling, addition, concatenation, dense) for one image.
/// </summary>
public sealed record ArchitectureCost(long Parameters, long BatchNormStatistics, long Macs, int Depth, long ActivationsPerSample)
{
    /// <summary>Parameters plus BN running statistics, as the stage-wise authors report them.</summary>
    public long ParametersWithStatistics => Parameters + BatchNormStatistics;

    /// <summary>Memory in bytes for a batch: 4 × (batch × activations + parameters).</summary>
    public long MemoryBytes(int batch) => 4L * (batch * ActivationsPerSample + Parameters);
}

/// <summary>Adds up the cost of a network layer by layer while tracking the feature-map shape.</summary>
public sealed class CostCounter
{
    private long _params, _bnStats, _macs, _activations;
    private int _depth;

    /// <summary>The result so far.</summary>
    public ArchitectureCost Result => new(_params, _bnStats, _macs, _depth, _activations);

    /// <summary>A conv over [cin, h, w]; returns the output height and width.</summary>
    public (int H, int W) Conv(int cin, int cout, int h, int w, int kh, int kw, int stride = 1, int padH = 0, int padW = 0,
        int groups = 1, bool bias = false, int dilation = 1)
    {
        int oh = (h + 2 * padH - dilation * (kh - 1) - 1) / stride + 1, ow = (w + 2 * padW - dilation * (kw - 1) - 1) / stride + 1;
        long weights = (long)cout * (cin / groups) * kh * kw;
        _params += weights + (bias ? cout : 0);
        _macs += weights * oh * ow;
        _activations += (long)cout * oh * ow;
        _depth++;
        return (oh, ow);
    }

    /// <summary>"Same" conv (padding k/2).</summary>
    public (int H, int W) ConvSame(int cin, int cout, int h, int w, int k, int stride = 1, int groups = 1, bool bias = false) =>
        Conv(cin, cout, h, w, k, k, stride, k / 2, k / 2, groups, bias);

    /// <summary>Batch norm over c channels of an h×w map (γ, β trainable; mean, var statistics).</summary>
    public void BatchNorm(int c, int h, int w)
    {
        _params += 2L * c;
        _bnStats += 2L * c;
        _activations += (long)c * h * w;
    }

    /// <summary>A parameter-free layer producing c×h×w values (ReLU, pooling, addition, concatenation).</summary>
    public void Elementwise(int c, int h, int w) => _activations += (long)c * h * w;

    /// <summary>A dense layer.</summary>
    public void Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        _params += (long)inFeatures * outFeatures + (bias ? outFeatures : 0);
        _macs += (long)inFeatures * outFeatures;
        _activations += outFeatures;
        _depth++;
    }
}
