using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;

namespace SharpNas.Engine.Modules;

/// <summary>2-D convolution layer: weight [Cout, Cin/groups, KH, KW], optional bias. Weights start Kaiming-normal
/// (fan_out, ReLU), the bias as PyTorch's default.</summary>
public sealed class Conv2d : Module<Tensor, Tensor>
{
    /// <summary>The kernel.</summary>
    public Tensor Weight { get; }
    /// <summary>The bias, or null.</summary>
    public Tensor? Bias { get; }
    /// <summary>Stride, padding, dilation, groups.</summary>
    public Conv2dOptions Options { get; }

    /// <summary>Creates a conv with a (kernelH × kernelW) kernel.</summary>
    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, in Conv2dOptions options, bool bias = false)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelH <= 0 || kernelW <= 0)
            throw new ArgumentException($"Conv2d: channels and kernel must be positive, got in {inChannels}, out {outChannels}, kernel {kernelH}x{kernelW}");
        if (options.Groups <= 0 || inChannels % options.Groups != 0 || outChannels % options.Groups != 0)
            throw new ArgumentException($"Conv2d: groups {options.Groups} must divide in {inChannels} and out {outChannels}");
        Options = options;
        Weight = RegisterParameter("weight", Tensor.Zeros(outChannels, inChannels / options.Groups, kernelH, kernelW));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outChannels));
    }

    /// <summary>Square kernel with symmetric padding.</summary>
    public Conv2d(int inChannels, int outChannels, int kernel, int stride = 1, int padding = 0, int dilation = 1, int groups = 1, bool bias = false)
        : this(inChannels, outChannels, kernel, kernel, Conv2dOptions.Symmetric(stride, padding, padding, dilation, groups), bias) { }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng)
    {
        Init.KaimingNormal(Weight, rng.Derive("weight"));
        if (Bias is not null) Init.DefaultUniform(Bias, Weight.Size / Weight.Dim(0), rng.Derive("bias"));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Conv2d(x, Weight, Bias, Options);
}

/// <summary>Batch normalisation over channels with running statistics (momentum 0.1, eps 1e-5 by default).</summary>
public sealed class BatchNorm2d : Module<Tensor, Tensor>
{
    /// <summary>γ, or null when not affine.</summary>
    public Tensor? Weight { get; }
    /// <summary>β, or null when not affine.</summary>
    public Tensor? Bias { get; }
    /// <summary>Running mean (starts at 0).</summary>
    public Tensor RunningMean { get; }
    /// <summary>Running (unbiased) variance (starts at 1).</summary>
    public Tensor RunningVar { get; }
    /// <summary>Weight of the new batch in the running statistics.</summary>
    public float Momentum { get; }
    /// <summary>Added to the variance inside the square root.</summary>
    public float Eps { get; }

    /// <summary>Creates the layer for <paramref name="channels"/> channels.</summary>
    public BatchNorm2d(int channels, float momentum = 0.1f, float eps = 1e-5f, bool affine = true)
    {
        if (channels <= 0) throw new ArgumentException($"BatchNorm2d: channels must be positive, got {channels}");
        Momentum = momentum;
        Eps = eps;
        if (affine)
        {
            Weight = RegisterParameter("weight", Tensor.Full(1f, channels));
            Bias = RegisterParameter("bias", Tensor.Zeros(channels));
        }
        RunningMean = RegisterBuffer("running_mean", Tensor.Zeros(channels));
        RunningVar = RegisterBuffer("running_var", Tensor.Full(1f, channels));
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng)
    {
        Weight?.Span.Fill(1f);
        Bias?.Span.Clear();
        RunningMean.Span.Clear();
        RunningVar.Span.Fill(1f);
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.BatchNorm2d(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);

    /// <summary><c>Relu(Forward(x))</c> as one op (<see cref="F.BatchNormRelu"/>): same values and gradients, one
    /// tensor less kept for the backward pass.</summary>
    public Tensor ForwardRelu(Tensor x) => F.BatchNormRelu(x, Weight, Bias, RunningMean, RunningVar, Training, Momentum, Eps);

    /// <summary>
    /// This batch norm (then ReLU when <paramref name="relu"/>) applied to <c>conv.Forward(x)</c>. In evaluation mode
    /// without a graph (inference) the two run as one kernel call (<see cref="F.Conv2dBatchNormEval"/>); otherwise as
    /// the separate ops, the conv's output released once read.
    /// </summary>
    public Tensor ForwardAfter(Conv2d conv, Tensor x, bool relu = false)
    {
        if (FusesWith(conv, x))
            return F.Conv2dBatchNormEval(x, conv.Weight, conv.Options, Weight, Bias, RunningMean, RunningVar, Eps, relu);
        Tensor a = conv.Forward(x);
        Tensor b = relu ? ForwardRelu(a) : Forward(a);
        a.Release(b);
        return b;
    }

    /// <summary>
    /// <c>Relu(Forward(conv.Forward(x)) + residual)</c>, the end of a residual block, with the pre-ReLU sum in
    /// <paramref name="sum"/>. In inference one kernel call (<see cref="F.Conv2dBatchNormAddReluEval"/>); otherwise the
    /// separate ops, intermediates released once read.
    /// </summary>
    public Tensor ForwardAfterAddRelu(Conv2d conv, Tensor x, Tensor residual, out Tensor sum)
    {
        if (FusesWith(conv, x) && !GradMode.ShouldRecord(residual))
            return F.Conv2dBatchNormAddReluEval(x, conv.Weight, conv.Options, Weight, Bias, RunningMean, RunningVar, Eps, residual, out sum);
        Tensor y = ForwardAfter(conv, x);
        sum = F.Add(y, residual);
        y.Release(sum);
        return F.Relu(sum);
    }

    /// <summary>Whether <paramref name="conv"/> then this batch norm can run as one inference kernel call.</summary>
    private bool FusesWith(Conv2d conv, Tensor x) =>
        !Training && conv.Bias is null && !GradMode.ShouldRecord(x, conv.Weight, Weight) && !(Bias is not null && GradMode.ShouldRecord(Bias));
}

/// <summary>Fully connected layer y = x·Wᵀ + b, initialised as PyTorch's default U(±1/√in).</summary>
public sealed class Linear : Module<Tensor, Tensor>
{
    /// <summary>[out, in].</summary>
    public Tensor Weight { get; }
    /// <summary>[out] or null.</summary>
    public Tensor? Bias { get; }

    /// <summary>Creates the layer.</summary>
    public Linear(int inFeatures, int outFeatures, bool bias = true)
    {
        if (inFeatures <= 0 || outFeatures <= 0) throw new ArgumentException($"Linear: sizes must be positive, got in {inFeatures}, out {outFeatures}");
        Weight = RegisterParameter("weight", Tensor.Zeros(outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(outFeatures));
    }

    /// <inheritdoc/>
    protected override void ResetParameters(SeededRandom rng)
    {
        Init.DefaultUniform(Weight, Weight.Dim(1), rng.Derive("weight"));
        if (Bias is not null) Init.DefaultUniform(Bias, Weight.Dim(1), rng.Derive("bias"));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Linear(x, Weight, Bias);
}

/// <summary>max(x, 0).</summary>
public sealed class ReLU : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Relu(x);
}

/// <summary>Max pooling.</summary>
public sealed class MaxPool2d(Pool2dOptions options) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.MaxPool2d(x, options);
}

/// <summary>Average pooling.</summary>
public sealed class AvgPool2d(Pool2dOptions options) : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.AvgPool2d(x, options);
}

/// <summary>Mean over H and W: [N, C, H, W] → [N, C].</summary>
public sealed class GlobalAvgPool2d : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.GlobalAvgPool(x);
}

/// <summary>[N, ...] → [N, rest].</summary>
public sealed class Flatten : Module<Tensor, Tensor>
{
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Flatten(x);
}

/// <summary>Inverted dropout with its own random stream.</summary>
public sealed class Dropout(float p, SeededRandom rng) : Module<Tensor, Tensor>
{
    /// <summary>Drop probability.</summary>
    public float P { get; } = p;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.Dropout(x, P, Training, rng);
}

/// <summary>Per-sample drop-path; <see cref="P"/> can be changed during training (ScheduledDropPath).</summary>
public sealed class DropPath(float p, SeededRandom rng) : Module<Tensor, Tensor>
{
    /// <summary>Drop probability.</summary>
    public float P { get; set; } = p;
    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => F.DropPath(x, P, Training, rng);
}

/// <summary>Applies its children in order; they are named "0", "1", … as in PyTorch.</summary>
public sealed class Sequential : Module<Tensor, Tensor>
{
    private readonly List<Module<Tensor, Tensor>> _layers = [];

    /// <summary>Creates the chain.</summary>
    public Sequential(params Module<Tensor, Tensor>[] layers)
    {
        foreach (var layer in layers) Add(layer);
    }

    /// <summary>Appends a layer.</summary>
    public void Add(Module<Tensor, Tensor> layer) => _layers.Add(RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module<Tensor, Tensor> this[int index] => _layers[index];

    /// <summary>Whether, in a forward pass without autograd, each layer's output is released (<see cref="Tensor.Release"/>)
    /// as soon as the next layer has read it, so that the chain holds one or two activations at a time instead of all of
    /// them. Off by default: set it only when no layer keeps a reference to its own output (ResNet's stages).</summary>
    public bool ReleasesIntermediates { get; init; }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x)
    {
        Tensor input = x;
        foreach (var layer in _layers)
        {
            Tensor y = layer.Forward(x);
            if (ReleasesIntermediates && !ReferenceEquals(x, input)) x.Release(y);
            x = y;
        }
        return x;
    }
}
