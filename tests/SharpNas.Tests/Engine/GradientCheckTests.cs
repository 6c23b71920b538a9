using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Models;

namespace SharpNas.Tests.Engine;

/// <summary>
/// Every differentiable op of <c>Functional/</c>, in the configurations the searches use, has gradients equal to
/// central finite differences (driver and tolerance in <see cref="GradientCheck"/>); so does a whole tiny ResNet.
/// </summary>
public sealed class GradientCheckTests
{
    private sealed record Case(Func<Tensor[], Tensor> Op, Tensor[] Inputs, double Step = 1e-2);

    private static readonly long[] Labels = [3, 0, 4, 4, 1];

    private static Tensor Rand(ulong seed, params int[] shape) => GradientCheck.Random(shape, new SeededRandom(seed));

    /// <summary>Values at least 0.1 away from 0, so that x ± h never crosses ReLU's kink.</summary>
    private static Tensor AwayFromZero(ulong seed, params int[] shape)
    {
        Tensor t = Rand(seed, shape);
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] += s[i] >= 0 ? 0.1f : -0.1f;
        return t;
    }

    /// <summary>Distinct values 0.02 apart in random order, so that no pooling window has a tie within ±h.</summary>
    private static Tensor WithoutTies(ulong seed, params int[] shape)
    {
        Tensor t = Tensor.Zeros(shape);
        int[] order = Enumerable.Range(0, t.Size).ToArray();
        new SeededRandom(seed).Shuffle(order.AsSpan());
        for (int i = 0; i < order.Length; i++) t.Span[i] = (order[i] - t.Size / 2) * 0.02f;
        return t;
    }

    private static Tensor Positive(ulong seed, params int[] shape)
    {
        Tensor t = Rand(seed, shape);
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = 0.5f + Math.Abs(s[i]);
        return t;
    }

    private static Case Conv(Conv2dOptions o, int[] x, int[] w, bool bias) => new(
        xs => F.Conv2d(xs[0], xs[1], bias ? xs[2] : null, o),
        bias ? [Rand(1, x), Rand(2, w), Rand(3, w[0])] : [Rand(1, x), Rand(2, w)]);

    private static Case Pool(bool max, Pool2dOptions o, params int[] x) => max
        ? new(xs => F.MaxPool2d(xs[0], o), [WithoutTies(4, x)], Step: 2e-3)
        : new(xs => F.AvgPool2d(xs[0], o), [Rand(4, x)]);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["conv2d 3x3 stride 1 pad 1 with bias"] = Conv(Conv2dOptions.Symmetric(1, 1, 1), [2, 3, 6, 6], [4, 3, 3, 3], true),
        ["conv2d 3x3 stride 2 pad 1 without bias"] = Conv(Conv2dOptions.Symmetric(2, 1, 1), [2, 3, 7, 7], [4, 3, 3, 3], false),
        ["conv2d 1x1 stride 2 without bias"] = Conv(Conv2dOptions.Symmetric(2), [2, 3, 6, 6], [5, 3, 1, 1], false),
        ["conv2d 1x7 pad 0x3 with bias"] = Conv(Conv2dOptions.Symmetric(1, 0, 3), [1, 2, 5, 8], [3, 2, 1, 7], true),
        ["conv2d 7x1 pad 3x0 without bias"] = Conv(Conv2dOptions.Symmetric(1, 3, 0), [1, 2, 8, 5], [3, 2, 7, 1], false),
        ["conv2d 3x3 dilation 2 pad 2"] = Conv(Conv2dOptions.Symmetric(1, 2, 2, dilation: 2), [1, 2, 7, 7], [3, 2, 3, 3], true),
        ["conv2d 3x3 stride 2 asymmetric TF-same padding"] = Conv(new Conv2dOptions(2, 2, PadTop: 0, PadLeft: 0, PadBottom: 1, PadRight: 1), [1, 2, 6, 6], [3, 2, 3, 3], false),
        ["conv2d 3x3 uneven padding on all four sides"] = Conv(new Conv2dOptions(1, 1, PadTop: 2, PadLeft: 0, PadBottom: 1, PadRight: 3), [1, 2, 5, 4], [2, 2, 3, 3], true),
        ["conv2d groups 2"] = Conv(Conv2dOptions.Symmetric(1, 1, 1, groups: 2), [1, 4, 5, 5], [6, 2, 3, 3], true),
        ["conv2d depthwise 3x3"] = Conv(Conv2dOptions.Symmetric(1, 1, 1, groups: 3), [2, 3, 5, 5], [3, 1, 3, 3], true),
        ["conv2d depthwise 5x5 stride 2"] = Conv(Conv2dOptions.Symmetric(2, 2, 2, groups: 3), [1, 3, 7, 7], [3, 1, 5, 5], false),
        ["conv2d depthwise with channel multiplier 2"] = Conv(Conv2dOptions.Symmetric(1, 1, 1, groups: 3), [1, 3, 5, 5], [6, 1, 3, 3], false),

        ["batchnorm2d training, affine"] = new(xs => F.BatchNorm2d(xs[0], xs[1], xs[2], null, null, true), [Rand(5, 3, 2, 4, 4), Positive(6, 2), Rand(7, 2)]),
        ["batchnorm2d training, not affine, updating running stats"] = new(
            xs => F.BatchNorm2d(xs[0], null, null, Tensor.Zeros(3), Tensor.Full(1f, 3), true), [Rand(5, 2, 3, 3, 3)]),
        ["batchnorm2d training on [N, C]"] = new(xs => F.BatchNorm2d(xs[0], xs[1], xs[2], null, null, true), [Rand(5, 6, 3), Positive(6, 3), Rand(7, 3)]),
        ["batchnorm2d eval, affine"] = new(xs => F.BatchNorm2d(xs[0], xs[1], xs[2], Rand(8, 2), Positive(9, 2), false), [Rand(5, 2, 2, 3, 3), Positive(6, 2), Rand(7, 2)]),
        ["batchnorm2d eval, not affine"] = new(xs => F.BatchNorm2d(xs[0], null, null, Rand(8, 2), Positive(9, 2), false), [Rand(5, 2, 2, 3, 3)]),

        ["relu"] = new(xs => F.Relu(xs[0]), [AwayFromZero(10, 2, 3, 4, 4)]),
        ["add"] = new(xs => F.Add(xs[0], xs[1]), [Rand(11, 2, 3, 4), Rand(12, 2, 3, 4)]),
        ["add of a tensor to itself"] = new(xs => F.Add(xs[0], xs[0]), [Rand(11, 2, 3, 4)]),
        ["add of a tensor and its scaled self"] = new(xs => F.Add(F.Scale(xs[0], -0.5f), xs[0]), [Rand(11, 2, 3, 4)]),
        ["scale"] = new(xs => F.Scale(xs[0], 1.75f), [Rand(13, 3, 5)]),
        ["concat channels, one input twice"] = new(xs => F.ConcatChannels(xs[0], xs[1], xs[0]), [Rand(14, 2, 2, 3, 3), Rand(15, 2, 3, 3, 3)]),
        ["shortcut A stride 2 odd size"] = new(xs => F.ShortcutA(xs[0], 8, 2), [Rand(16, 2, 4, 5, 5)]),
        ["shortcut A stride 1"] = new(xs => F.ShortcutA(xs[0], 6, 1), [Rand(16, 2, 4, 3, 3)]),
        ["reshape"] = new(xs => F.Reshape(xs[0], 6, -1), [Rand(17, 2, 3, 2, 2)]),
        ["reshape between two ops"] = new(xs => F.Scale(F.Flatten(F.Relu(xs[0])), 2f), [AwayFromZero(17, 2, 3, 2, 2)]),

        ["maxpool2d 3x3 stride 1 pad 1"] = Pool(true, Pool2dOptions.Square(3, 1, 1), 2, 2, 5, 5),
        ["maxpool2d 3x3 stride 2 pad 1"] = Pool(true, Pool2dOptions.Square(3, 2, 1), 2, 2, 7, 6),
        ["maxpool2d 2x2 stride 2"] = Pool(true, Pool2dOptions.Square(2), 1, 2, 6, 6),
        ["avgpool2d 3x3 stride 1 pad 1 counting padding"] = Pool(false, Pool2dOptions.Square(3, 1, 1, countIncludePad: true), 2, 2, 5, 5),
        ["avgpool2d 3x3 stride 1 pad 1 excluding padding"] = Pool(false, Pool2dOptions.Square(3, 1, 1, countIncludePad: false), 2, 2, 5, 5),
        ["avgpool2d 3x3 stride 2 pad 1 counting padding"] = Pool(false, Pool2dOptions.Square(3, 2, 1, countIncludePad: true), 2, 2, 6, 7),
        ["avgpool2d 3x3 stride 2 pad 1 excluding padding"] = Pool(false, Pool2dOptions.Square(3, 2, 1, countIncludePad: false), 2, 2, 6, 7),
        ["global average pool"] = new(xs => F.GlobalAvgPool(xs[0]), [Rand(18, 2, 3, 4, 5)]),

        ["linear with bias"] = new(xs => F.Linear(xs[0], xs[1], xs[2]), [Rand(19, 4, 6), Rand(20, 3, 6), Rand(21, 3)]),
        ["linear without bias"] = new(xs => F.Linear(xs[0], xs[1], null), [Rand(19, 4, 6), Rand(20, 3, 6)]),
        ["dropout with a fixed stream"] = new(xs => F.Dropout(xs[0], 0.3f, true, new SeededRandom(42)), [Rand(22, 4, 10)]),
        ["drop path with a fixed stream"] = new(xs => F.DropPath(xs[0], 0.5f, true, new SeededRandom(43)), [Rand(23, 6, 2, 3, 3)]),
        ["log softmax"] = new(xs => F.LogSoftmax(xs[0]), [Rand(24, 4, 7)]),
        ["cross entropy"] = new(xs => F.CrossEntropy(xs[0], Labels), [Rand(25, 5, 6)]),
        ["cross entropy with label smoothing 0.1"] = new(xs => F.CrossEntropy(xs[0], Labels, 0.1f), [Rand(25, 5, 6)]),
    };

    public static TheoryData<string> Ops() => new(Cases.Keys);

    [Theory]
    [MemberData(nameof(Ops))]
    public void Analytic_gradients_match_central_differences(string op)
    {
        Case c = Cases[op];
        string? diff = GradientCheck.Compare(c.Op, c.Inputs, c.Step);
        Assert.True(diff is null, $"{op}: {diff}");
    }

    [Fact]
    public void The_checker_rejects_a_gradient_that_is_two_percent_off()
    {
        Case c = Cases["conv2d 3x3 stride 1 pad 1 with bias"];
        string? diff = GradientCheck.Compare(c.Op, c.Inputs, c.Step,
            corruptAnalytic: grads => grads[1].Span[5] *= 1.02f);
        Assert.NotNull(diff);
        Assert.Contains("input 1", diff);
    }

    [Fact]
    public void Dropout_masks_drop_some_elements_and_keep_others_in_the_checked_cases()
    {
        // Otherwise the dropout gradient checks would only check the identity.
        float[] y = F.Dropout(Cases["dropout with a fixed stream"].Inputs[0], 0.3f, true, new SeededRandom(42)).ToArray();
        Assert.Contains(0f, y);
        Assert.Contains(y, v => v != 0f);
        Tensor x = Cases["drop path with a fixed stream"].Inputs[0];
        Tensor p = F.DropPath(x, 0.5f, true, new SeededRandom(43));
        int inner = x.Size / x.Dim(0);
        int dropped = Enumerable.Range(0, x.Dim(0)).Count(i => p.Span.Slice(i * inner, inner).IndexOfAnyExcept(0f) < 0);
        Assert.InRange(dropped, 1, x.Dim(0) - 1);
    }

    // A network has thousands of ReLUs, and a step of 1e-3 already moves some of them across their kink (the
    // difference quotient then misses up to ~5 %); below 2e-4 the float32 rounding of ~10 layers dominates
    // (~3e-4 absolute). At h = 3e-4 both stay within 1.3x the op tolerance on these samples, so the network is
    // judged at 3x the op tolerance: loose for rounding, still far tighter than any wiring mistake (a gradient
    // that skips a shortcut, a BN or a 1/B is off by tens of percent).
    private const double Step = 3e-4, Looseness = 3;

    [Fact]
    public void A_tiny_resnet_has_parameter_gradients_equal_to_finite_differences()
    {
        var model = new ResNet([1, 1], numClasses: 5);
        model.Initialize(new SeededRandom(2024));
        Tensor x = GradientCheck.Random([2, 3, 8, 8], new SeededRandom(7));
        Tensor r = GradientCheck.Random([2, 5], new SeededRandom(8));

        Tensor logits = model.Forward(x);
        logits.Backward(r);
        double Loss()
        {
            using var _ = SharpNas.Engine.Autograd.GradMode.NoGrad();
            return GradientCheck.Dot(model.Forward(x), r);
        }

        var failures = new List<string>();
        var rng = new SeededRandom(9);
        int checkedTensors = 0;
        foreach ((string name, Tensor p) in model.NamedParameters())
        {
            Assert.True(p.Grad is not null, $"{name} has no gradient");
            int[] sample = Enumerable.Range(0, 4).Select(_ => rng.NextInt(p.Size)).ToArray();
            var numeric = sample.Select(j => GradientCheck.Central(p, j, Loss, Step)).ToArray();
            float[] analytic = sample.Select(j => p.Grad!.Span[j]).ToArray();
            string? diff = GradientCheck.Judge(analytic, numeric, Looseness);
            if (diff is not null) failures.Add($"{name} at [{string.Join(", ", sample)}]: {diff}");
            checkedTensors++;
        }
        Assert.Equal(model.Parameters().Count(), checkedTensors);
        Assert.True(failures.Count == 0, string.Join("; ", failures));
    }
}
