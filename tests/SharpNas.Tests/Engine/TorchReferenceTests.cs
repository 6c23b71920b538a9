using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Models;
using SharpNas.Engine.Optim;

namespace SharpNas.Tests.Engine;

/// <summary>
/// Runs every case of <c>fixtures/torch-reference</c> (one test per case folder) through the engine and compares
/// every output, gradient and updated buffer with PyTorch's, at the tolerance the case states. Cases of the
/// stage-wise search's PLS-VIP math are run by the search layer's own tests.
/// </summary>
public sealed class TorchReferenceTests
{
    private const string EnvVar = "SHARPNAS_FIXTURES";
    private const string Relative = "fixtures/torch-reference";
    internal const string Absent = "(fixtures absent)";
    private static readonly HashSet<string> SearchLayerOps = ["pls_vip"];

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        string? root = SharedFolder.Find(EnvVar, Relative);
        if (root is null) { data.Add(Absent); return data; }
        foreach (string name in FixtureCase.CaseNames(root))
            if (!SearchLayerOps.Contains(new FixtureCase(Path.Combine(root, name)).Op)) data.Add(name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorch(string caseName) => Check(caseName, null);

    [SkippableTheory]
    [MemberData(nameof(Cases))]
    public void MatchesPyTorchWithReferenceKernels(string caseName) => Check(caseName, KernelSet.Reference);

    private static void Check(string caseName, KernelSet? kernels)
    {
        string root = SharedFolder.Require(EnvVar, Relative);
        Assert.NotEqual(Absent, caseName);
        var fx = new FixtureCase(Path.Combine(root, caseName));
        using var _ = KernelSet.Use(kernels ?? KernelSet.Active);
        Dictionary<string, Tensor> actual = Run(fx);
        var failures = new List<string>();
        foreach (FixtureCase.Entry e in fx.Expected())
        {
            if (!actual.TryGetValue(e.Name, out Tensor? got)) { failures.Add($"{e.Name}: not produced"); continue; }
            if (!got.HasShape(e.Shape)) { failures.Add($"{e.Name}: shape {got.ShapeString} vs {Tensor.Format(e.Shape)}"); continue; }
            string? diff = TensorAssert.Compare(got.Span, fx.Load(e.Name).Span, e.Rtol ?? fx.Rtol, e.Atol ?? fx.Atol);
            if (diff is not null) failures.Add($"{e.Name}: {diff}");
        }
        Assert.True(failures.Count == 0, $"{caseName}: " + string.Join("; ", failures));
    }

    private static Dictionary<string, Tensor> Run(FixtureCase fx) => fx.Op switch
    {
        "conv2d" => Conv(fx),
        "batchnorm2d" => BatchNorm(fx),
        "relu" => Unary(fx, F.Relu),
        "maxpool2d" => Unary(fx, x => F.MaxPool2d(x, PoolOptions(fx, true))),
        "avgpool2d" => Unary(fx, x => F.AvgPool2d(x, PoolOptions(fx, fx.Bool("count_include_pad")))),
        "global_avg_pool" => Unary(fx, F.GlobalAvgPool),
        "log_softmax" => Unary(fx, F.LogSoftmax),
        "linear" => LinearCase(fx),
        "cross_entropy" => CrossEntropyCase(fx),
        "sepconv_unit" => SepConv(fx),
        "sgd_step" => SgdStep(fx),
        "resnet20_cifar" => ResNet20(fx),
        _ => throw new NotSupportedException($"{fx.Name}: no runner for op {fx.Op}"),
    };

    private static Tensor Leaf(FixtureCase fx, string name)
    {
        Tensor t = fx.Load(name);
        t.RequiresGrad = true;
        return t;
    }

    private static Dictionary<string, Tensor> Unary(FixtureCase fx, Func<Tensor, Tensor> op)
    {
        Tensor x = Leaf(fx, "input");
        Tensor y = op(x);
        y.Backward(fx.Load("grad_output"));
        return new() { ["output"] = y, ["grad_input"] = x.Grad! };
    }

    private static Pool2dOptions PoolOptions(FixtureCase fx, bool includePad)
    {
        int[] k = fx.Pair("kernel_size"), s = fx.Pair("stride"), p = fx.Pair("padding");
        return new Pool2dOptions(k[0], k[1], s[0], s[1], p[0], p[1], includePad);
    }

    private static Dictionary<string, Tensor> Conv(FixtureCase fx)
    {
        int[] s = fx.Pair("stride"), p = fx.Pair("padding"), d = fx.Pair("dilation");
        Tensor x = Leaf(fx, "input"), w = Leaf(fx, "weight");
        Tensor? b = fx.Bool("bias") ? Leaf(fx, "bias") : null;
        Tensor y = F.Conv2d(x, w, b, new Conv2dOptions(s[0], s[1], p[0], p[1], p[0], p[1], d[0], d[1], fx.Int("groups")));
        y.Backward(fx.Load("grad_output"));
        var r = new Dictionary<string, Tensor> { ["output"] = y, ["grad_input"] = x.Grad!, ["grad_weight"] = w.Grad! };
        if (b is not null) r["grad_bias"] = b.Grad!;
        return r;
    }

    private static Dictionary<string, Tensor> BatchNorm(FixtureCase fx)
    {
        Tensor x = Leaf(fx, "input"), w = Leaf(fx, "weight"), b = Leaf(fx, "bias");
        Tensor rm = fx.Load("running_mean"), rv = fx.Load("running_var");
        bool training = fx.Bool("training");
        float eps = (float)fx.Double("eps"), momentum = (float)fx.Double("momentum");
        Tensor y = F.BatchNorm2d(x, w, b, rm, rv, training, momentum, eps);
        y.Backward(fx.Load("grad_output"));
        var r = new Dictionary<string, Tensor> { ["output"] = y, ["grad_input"] = x.Grad!, ["grad_weight"] = w.Grad!, ["grad_bias"] = b.Grad! };
        if (training)
        {
            r["running_mean_out"] = rm;
            r["running_var_out"] = rv;
            // The batch statistics come straight from the kernel that produced the output.
            int c = x.Dim(1), hw = x.Dim(2) * x.Dim(3);
            Tensor mean = Tensor.Empty(c), invStd = Tensor.Empty(c), scratch = Tensor.Empty(x.ShapeArray);
            KernelSet.Active.BatchNormTrainForward(x.Dim(0), c, hw, x.Span, w.Span, b.Span, eps, scratch.Span, mean.Span, invStd.Span);
            Tensor var = Tensor.Empty(c);
            for (int i = 0; i < c; i++) var.Span[i] = 1f / (invStd.Span[i] * invStd.Span[i]) - eps;
            r["batch_mean"] = mean;
            r["batch_var_biased"] = var;
        }
        return r;
    }

    private static Dictionary<string, Tensor> LinearCase(FixtureCase fx)
    {
        Tensor x = Leaf(fx, "input"), w = Leaf(fx, "weight"), b = Leaf(fx, "bias");
        Tensor y = F.Linear(x, w, b);
        y.Backward(fx.Load("grad_output"));
        return new() { ["output"] = y, ["grad_input"] = x.Grad!, ["grad_weight"] = w.Grad!, ["grad_bias"] = b.Grad! };
    }

    private static Dictionary<string, Tensor> CrossEntropyCase(FixtureCase fx)
    {
        Tensor logits = Leaf(fx, "logits");
        long[] labels = fx.LoadInt64("labels");
        Tensor loss = F.CrossEntropy(logits, labels, (float)fx.Double("label_smoothing"));
        loss.Backward();
        Tensor logSoftmax;
        using (GradModeScope()) logSoftmax = F.LogSoftmax(logits);
        return new() { ["loss"] = loss, ["log_softmax"] = logSoftmax, ["grad_logits"] = logits.Grad! };
    }

    private static IDisposable GradModeScope() => SharpNas.Engine.Autograd.GradMode.NoGrad();

    private static Dictionary<string, Tensor> SepConv(FixtureCase fx)
    {
        int k = fx.Int("kernel_size"), stride = fx.Int("stride"), pad = fx.Int("padding"), c = fx.Int("channels");
        float eps = (float)fx.Double("bn_eps"), momentum = (float)fx.Double("bn_momentum");
        var r = new Dictionary<string, Tensor>();
        var leaves = new Dictionary<string, Tensor>();
        foreach (string n in new[] { "dw1.weight", "pw1.weight", "bn1.weight", "bn1.bias", "dw2.weight", "pw2.weight", "bn2.weight", "bn2.bias" })
            leaves[n] = Leaf(fx, n);
        Tensor x = Leaf(fx, "input");
        Tensor y = x;
        for (int unit = 1; unit <= 2; unit++)
        {
            Tensor rm = fx.Load($"bn{unit}.running_mean"), rv = fx.Load($"bn{unit}.running_var");
            y = F.Relu(y);
            y = F.Conv2d(y, leaves[$"dw{unit}.weight"], null, Conv2dOptions.Symmetric(unit == 1 ? stride : 1, pad, pad, 1, c));
            y = F.Conv2d(y, leaves[$"pw{unit}.weight"], null, Conv2dOptions.Symmetric());
            y = F.BatchNorm2d(y, leaves[$"bn{unit}.weight"], leaves[$"bn{unit}.bias"], rm, rv, true, momentum, eps);
            r[$"bn{unit}.running_mean_out"] = rm;
            r[$"bn{unit}.running_var_out"] = rv;
        }
        y.Backward(fx.Load("grad_output"));
        r["output"] = y;
        r["grad_input"] = x.Grad!;
        foreach ((string n, Tensor t) in leaves) r["grad_" + n] = t.Grad!;
        return r;
    }

    private static Dictionary<string, Tensor> SgdStep(FixtureCase fx)
    {
        var ps = new List<Tensor>();
        for (int i = 0; fx.Has($"p{i}"); i++)
        {
            Tensor p = fx.Load($"p{i}");
            p.Grad = fx.Load($"grad_p{i}");
            ps.Add(p);
        }
        var sgd = new Sgd(ps, fx.Double("lr"), fx.Double("momentum"), fx.Double("weight_decay"), fx.Bool("nesterov"));
        if (fx.Bool("has_momentum_buffer"))
            for (int i = 0; i < ps.Count; i++) sgd.SetMomentumBuffer(i, fx.Load($"momentum_buffer_p{i}").Span);
        sgd.Step();
        var r = new Dictionary<string, Tensor>();
        for (int i = 0; i < ps.Count; i++)
        {
            r[$"p{i}_out"] = ps[i];
            r[$"momentum_buffer_p{i}_out"] = Tensor.FromArray(sgd.MomentumBuffer(i)!, ps[i].ShapeArray);
        }
        return r;
    }

    private static Dictionary<string, Tensor> ResNet20(FixtureCase fx)
    {
        ResNet model = ResNet.Cifar(20);
        var state = fx.Tensors.Where(t => t.Role is "param" or "buffer").ToDictionary(t => t.Name, t => fx.Load(t.Name));
        model.LoadStateDict(state);
        Tensor input = Leaf(fx, "input");
        long[] labels = fx.LoadInt64("labels");
        var r = new Dictionary<string, Tensor>();
        model.Eval();
        using (GradModeScope()) r["logits_eval"] = model.Forward(input);
        model.Train();
        Tensor logits = model.Forward(input);
        Tensor loss = F.CrossEntropy(logits, labels);
        loss.Backward();
        r["logits"] = logits;
        r["loss"] = loss;
        r["grad_input"] = input.Grad!;
        foreach ((string name, Tensor p) in model.NamedParameters()) r["grad_" + name] = p.Grad!;
        foreach ((string name, Tensor b) in model.NamedBuffers()) r[name + "_out"] = b;
        return r;
    }
}
