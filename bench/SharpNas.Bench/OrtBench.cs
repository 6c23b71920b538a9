using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.OnnxRuntime;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export;
using SharpNas.Training;

namespace SharpNas.Bench;

/// <summary>
/// `infer --engine ort`: the bench model with random weights (seed 1, as the SharpNas engine's run), exported by
/// <see cref="OnnxExport"/> to a temporary .onnx file and run in ONNX Runtime (all graph optimisations, sequential
/// execution, <c>--threads</c> intra-op threads, default 2) on the same random 32×32×3 images; input and output
/// buffers are allocated once. Timed like the SharpNas engine: warm-up runs, then the median of the timed runs.
/// </summary>
internal static class OrtBench
{
    public static int Infer(BenchOptions options)
    {
        string modelName = options.Text("model", "resnet20");
        int batch = options.Int("batch", 256);
        int steps = options.Int("steps", 10);
        int warmup = options.Int("warmup", 3);
        int threads = options.Int("threads", 2);

        (IArchitecture architecture, Module<Tensor, Tensor> net) = ModelBench.Build(modelName);
        net.Initialize(new SeededRandom(1));
        net.Eval();
        string file = Path.Combine(Path.GetTempPath(), $"sharpnas-bench-{Environment.ProcessId}-{modelName}.onnx");
        File.WriteAllBytes(file, OnnxExport.ToOnnx(architecture, net, ModelBench.Input, normalization: null));
        try
        {
            using var sessionOptions = new SessionOptions
            {
                IntraOpNumThreads = threads,
                InterOpNumThreads = 1,
                ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
                GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            };
            using var session = new InferenceSession(file, sessionOptions);
            var rng = new SeededRandom(2);
            float[] images = new float[batch * 3 * 32 * 32];
            for (int i = 0; i < images.Length; i++) images[i] = (float)rng.NextNormal();
            float[] logits = new float[batch * ModelBench.Input.NumClasses];
            using var input = OrtValue.CreateTensorValueFromMemory(images, [batch, 3, 32, 32]);
            using var output = OrtValue.CreateTensorValueFromMemory(logits, [batch, ModelBench.Input.NumClasses]);
            using var runOptions = new RunOptions();
            string[] inputNames = [OnnxExport.InputName], outputNames = [OnnxExport.OutputName];
            OrtValue[] inputs = [input], outputs = [output];

            void Step()
            {
                session.Run(runOptions, inputNames, inputs, outputNames, outputs);
                if (!float.IsFinite(logits[0])) throw new InvalidOperationException("infer --engine ort: the output is not finite");
            }

            for (int i = 0; i < warmup; i++) Step();
            var seconds = new double[steps];
            for (int i = 0; i < steps; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                Step();
                seconds[i] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            }
            Array.Sort(seconds);
            double median = steps % 2 == 1 ? seconds[steps / 2] : 0.5 * (seconds[steps / 2 - 1] + seconds[steps / 2]);
            string version = typeof(InferenceSession).Assembly.GetName().Version?.ToString(3) ?? "?";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"workload\":\"infer/{modelName}\",\"batch\":{batch},\"images_per_sec\":{batch / median:F1},\"min_images_per_sec\":{batch / seconds[^1]:F1},\"max_images_per_sec\":{batch / seconds[0]:F1},\"threads\":{threads},\"peak_rss_mb\":{PeakMemory.PeakRssMegabytes():F1},\"kernels\":\"onnxruntime-{version}\",\"engine\":\"ort\"}}"));
            return 0;
        }
        finally
        {
            File.Delete(file);
        }
    }
}
