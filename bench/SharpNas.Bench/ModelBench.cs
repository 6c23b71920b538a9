using System.Diagnostics;
using System.Globalization;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Kernels;
using SharpNas.Engine.Modules;
using SharpNas.Engine.Optim;

namespace SharpNas.Bench;

/// <summary>
/// `train-step` and `infer`: whole-network throughput on random 32×32×3 images, measured the same way as
/// bench/torch_reference.py. Training: CIFAR model, cross-entropy, SGD (lr 0.1, Nesterov momentum 0.9, weight
/// decay 5e-4), one step = forward + backward + update. Inference: eval mode, no autograd. After warm-up steps
/// (the tiered JIT settles, buffers are pooled), each step is timed; the median gives images/s.
/// </summary>
internal static class ModelBench
{
    public static int TrainStep(BenchOptions options) => Run(options, training: true);

    public static int Infer(BenchOptions options) => options.Text("engine", "sharpnas") switch
    {
        "sharpnas" => Run(options, training: false),
        "ort" => OrtBench.Infer(options),
        string other => throw new ArgumentException($"--engine must be sharpnas or ort, found '{other}'"),
    };

    private static int Run(BenchOptions options, bool training)
    {
        string model = options.Text("model", "resnet20");
        int batch = options.Int("batch", training ? 128 : 256);
        int steps = options.Int("steps", training ? 10 : 10);
        int warmup = options.Int("warmup", 3);
        int threads = options.Int("threads", Engine.Parallel.WorkerPool.ThreadCountFromEnvironment());
        // The default pool and kernel set are created on first use: fix the thread count before anything runs.
        Environment.SetEnvironmentVariable(Engine.Parallel.WorkerPool.ThreadsVariable, threads.ToString(CultureInfo.InvariantCulture));

        Module<Tensor, Tensor> net = Build(model).Network;
        net.Initialize(new SeededRandom(1));
        var rng = new SeededRandom(2);
        float[] images = new float[batch * 3 * 32 * 32];
        for (int i = 0; i < images.Length; i++) images[i] = (float)rng.NextNormal();
        long[] labels = new long[batch];
        for (int i = 0; i < batch; i++) labels[i] = rng.NextInt(10);
        var sgd = new Sgd(net.Parameters(), 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true);
        var pool = new TensorPool();
        net.Train(training);
        // --profile: time every kernel call (the timed steps only) and print the split after the summary line.
        ProfilingKernels? profiler = options.Flag("profile") ? new ProfilingKernels(KernelSet.Active) : null;
        using KernelSet.OverrideScope? kernels = profiler is null ? null : KernelSet.Use(profiler);

        void Step()
        {
            using TensorScope scope = pool.BeginStep();
            Tensor x = Tensor.FromValues(images, batch, 3, 32, 32);
            if (training)
            {
                Tensor loss = F.CrossEntropy(net.Forward(x), labels);
                loss.Backward();
                sgd.Step();
                sgd.ZeroGrad();
                if (!float.IsFinite(loss.Item())) throw new InvalidOperationException("train-step: the loss is not finite");
            }
            else
            {
                using var noGrad = GradMode.NoGrad();
                Tensor logits = net.Forward(x);
                if (!float.IsFinite(logits.Span[0])) throw new InvalidOperationException("infer: the output is not finite");
            }
        }

        for (int i = 0; i < warmup; i++) Step();
        profiler?.Reset();
        var seconds = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Step();
            seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(seconds);
        double median = steps % 2 == 1 ? seconds[steps / 2] : 0.5 * (seconds[steps / 2 - 1] + seconds[steps / 2]);
        string workload = (training ? "train-step/" : "infer/") + model;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{{\"workload\":\"{workload}\",\"batch\":{batch},\"images_per_sec\":{batch / median:F1},\"min_images_per_sec\":{batch / seconds[^1]:F1},\"max_images_per_sec\":{batch / seconds[0]:F1},\"threads\":{threads},\"peak_rss_mb\":{PeakMemory.PeakRssMegabytes():F1},\"kernels\":\"{KernelSet.Active.Name}\"}}"));
        profiler?.Print(seconds.Sum());
        return 0;
    }

    /// <summary>The bench models' input: CIFAR-sized images, 10 classes.</summary>
    internal static Training.InputSpec Input { get; } = new(3, 32, 32, 10);

    /// <summary>The architecture named <paramref name="model"/> and its network (parameters zero until initialised).</summary>
    internal static (Training.IArchitecture Architecture, Module<Tensor, Tensor> Network) Build(string model)
    {
        Training.IArchitecture architecture = model switch
        {
            "resnet20" => Search.Spaces.StageWise.StageGenotype.ResNet(20),
            "resnet56" => Search.Spaces.StageWise.StageGenotype.ResNet(56),
            // NASNet-A CIFAR, N = 2 cells per stage, penultimate 384 filters (F = 16, stem 48), no aux head, no drop-path.
            "nasnet-a-2x16" => Search.Spaces.NasNet.NasNetGenotype.NasNetA(cellsPerStage: 2, penultimateFilters: 384, auxHead: false, dropPathKeepProb: 1.0),
            _ => throw new ArgumentException($"--model must be resnet20, resnet56 or nasnet-a-2x16, found '{model}'"),
        };
        return (architecture, architecture.Build(Input));
    }
}
