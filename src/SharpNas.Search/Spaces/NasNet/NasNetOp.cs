namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// The 13 operations a NASNet block may apply to a hidden state (Zoph et al. 2018, §2), in the paper's order; the
/// enum value is the controller's decision index. Every operation outputs the cell's F channels; see
/// <see cref="NasNetOps"/> for how each is built (ReLU-conv-BN order, projections, strides).
/// </summary>
public enum NasNetOp
{
    /// <summary>The state itself; ReLU-1×1 conv-BN when the stride or the channel count differs.</summary>
    Identity = 0,
    /// <summary>ReLU, 1×3 conv, 3×1 conv, BN.</summary>
    Conv1x3Then3x1 = 1,
    /// <summary>ReLU, 1×7 conv, 7×1 conv, BN.</summary>
    Conv1x7Then7x1 = 2,
    /// <summary>ReLU, 3×3 conv with dilation 2, BN.</summary>
    DilatedConv3x3 = 3,
    /// <summary>3×3 average pooling (padding not counted), then 1×1 conv + BN if channels differ.</summary>
    AvgPool3x3 = 4,
    /// <summary>3×3 max pooling, then 1×1 conv + BN if channels differ.</summary>
    MaxPool3x3 = 5,
    /// <summary>5×5 max pooling, then 1×1 conv + BN if channels differ.</summary>
    MaxPool5x5 = 6,
    /// <summary>7×7 max pooling, then 1×1 conv + BN if channels differ.</summary>
    MaxPool7x7 = 7,
    /// <summary>ReLU, 1×1 conv, BN.</summary>
    Conv1x1 = 8,
    /// <summary>ReLU, 3×3 conv, BN.</summary>
    Conv3x3 = 9,
    /// <summary>2 × [ReLU, depthwise 3×3, pointwise 1×1, BN], stride on the first only.</summary>
    SepConv3x3 = 10,
    /// <summary>2 × [ReLU, depthwise 5×5, pointwise 1×1, BN], stride on the first only.</summary>
    SepConv5x5 = 11,
    /// <summary>2 × [ReLU, depthwise 7×7, pointwise 1×1, BN], stride on the first only.</summary>
    SepConv7x7 = 12,
}

/// <summary>How a block joins its two branches.</summary>
public enum NasNetCombine
{
    /// <summary>Element-wise sum (F channels).</summary>
    Add = 0,
    /// <summary>Concatenation along channels (2F channels).</summary>
    Concat = 1,
}

/// <summary>The JSON names of <see cref="NasNetOp"/> and <see cref="NasNetCombine"/> values, and their parsing.</summary>
public static class NasNetOpNames
{
    private static readonly string[] OpNames =
    [
        "identity", "conv_1x3_3x1", "conv_1x7_7x1", "dil_conv_3x3", "avg_pool_3x3", "max_pool_3x3", "max_pool_5x5",
        "max_pool_7x7", "conv_1x1", "conv_3x3", "sep_conv_3x3", "sep_conv_5x5", "sep_conv_7x7",
    ];

    /// <summary>Number of operations (13).</summary>
    public const int OpCount = 13;

    /// <summary>Number of combine choices (2).</summary>
    public const int CombineCount = 2;

    /// <summary>Every op's JSON name, in enum order.</summary>
    public static IReadOnlyList<string> All => OpNames;

    /// <summary>The JSON name of <paramref name="op"/>, e.g. <c>sep_conv_5x5</c>.</summary>
    public static string Name(NasNetOp op) => OpNames[(int)op];

    /// <summary>The JSON name of <paramref name="combine"/>: <c>add</c> or <c>concat</c>.</summary>
    public static string Name(NasNetCombine combine) => combine == NasNetCombine.Add ? "add" : "concat";

    /// <summary>The op named <paramref name="name"/>, or false.</summary>
    public static bool TryParseOp(string name, out NasNetOp op)
    {
        int i = Array.IndexOf(OpNames, name);
        op = (NasNetOp)Math.Max(i, 0);
        return i >= 0;
    }

    /// <summary>The combine named <paramref name="name"/>, or false.</summary>
    public static bool TryParseCombine(string name, out NasNetCombine combine)
    {
        combine = name == "concat" ? NasNetCombine.Concat : NasNetCombine.Add;
        return name is "add" or "concat";
    }
}
