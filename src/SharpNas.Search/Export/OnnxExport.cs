using System.Globalization;
using System.Runtime.InteropServices;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Search.Export;

/// <summary>
/// Writes a trained network as an ONNX model (opset 13) that ONNX Runtime and other tools run. This version
/// exports <c>stages</c> architectures (CIFAR ResNets of basic blocks, shortcut A or B) in inference form: Conv,
/// BatchNormalization with the running statistics, Relu, Add, the option-A shortcut as Slice (step 2) + Pad
/// (zero channels), GlobalAveragePool, Flatten, Gemm. Input <c>input</c> [batch, C, height, width] float32, as the
/// network sees it (already normalised); output <c>logits</c> [batch, classes]. Batch, height and width are
/// dynamic. Any other architecture kind is an error naming it.
/// </summary>
public static class OnnxExport
{
    /// <summary>Exports the model of a train run folder (<c>arch.json</c> + <c>model.safetensors</c>) to
    /// <paramref name="outFile"/> (default <c>RUN/model.onnx</c>); returns the path written.</summary>
    public static string ExportRunFolder(string runDir, string? outFile = null)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"run folder {runDir} does not exist");
        string weights = Path.Combine(runDir, "model.safetensors");
        if (!File.Exists(weights))
            throw new FileNotFoundException($"{weights}: no weights; export takes a finished train run folder (for a search, one of RUN/trials/<key>/)", weights);
        SafetensorsFile file = Safetensors.Load(weights);
        string archPath = Path.Combine(runDir, "arch.json");
        IArchitecture architecture = File.Exists(archPath) ? ArchitectureJson.Load(archPath)
            : file.Metadata.TryGetValue("architecture", out string? json) ? ArchitectureJson.Parse(json, weights + " (metadata \"architecture\")")
            : throw new FileNotFoundException($"{runDir}: neither arch.json nor an \"architecture\" entry in model.safetensors", archPath);
        byte[] model = ToOnnx(architecture, file.ByName);
        string path = outFile ?? Path.Combine(runDir, "model.onnx");
        string tmp = path + ".tmp";
        File.WriteAllBytes(tmp, model);
        File.Move(tmp, path, overwrite: true);
        return path;
    }

    /// <summary>The ONNX model of <paramref name="architecture"/> with the weights of <paramref name="state"/>
    /// (a state dict; every missing, unexpected or misshapen tensor is listed in one error).</summary>
    public static byte[] ToOnnx(IArchitecture architecture, IReadOnlyDictionary<string, Tensor> state)
    {
        if (architecture is not StageGenotype genotype)
            throw new ArgumentException($"export --onnx: architecture kind \"{architecture.Kind}\" ({architecture.Describe()}) is not supported yet; this version exports kind \"{StageGenotype.KindName}\" (ResNet)");
        Tensor Need(string name) => state.TryGetValue(name, out Tensor? t) ? t
            : throw new InvalidDataException($"export --onnx: weights lack \"{name}\" for {architecture.Describe()}");
        Tensor stem = Need("conv1.weight"), fc = Need("fc.weight");
        if (stem.Rank != 4 || fc.Rank != 2) throw new InvalidDataException($"export --onnx: conv1.weight {stem.ShapeString} or fc.weight {fc.ShapeString} has the wrong rank");
        var input = new InputSpec(stem.Dim(1), 32, 32, fc.Dim(0));
        Module<Tensor, Tensor> model = genotype.Build(input);
        model.LoadStateDict(state);   // validates names and shapes against the architecture
        return ToOnnx(genotype, model, input.Channels, input.NumClasses);
    }

    /// <summary>The ONNX model of a built (and loaded) ResNet of <paramref name="genotype"/>.</summary>
    public static byte[] ToOnnx(StageGenotype genotype, Module<Tensor, Tensor> model, int channels, int classes)
    {
        var tensors = model.StateDict().ToDictionary(t => t.Name, t => t.Tensor);
        var batchNorms = model.NamedModules().Where(m => m.Module is BatchNorm2d).ToDictionary(m => m.Path, m => (BatchNorm2d)m.Module);
        var g = new GraphBuilder(tensors, batchNorms);

        string x = g.Relu(g.BatchNorm(g.Conv("input", "conv1", 1, 1), "bn1"));
        int cin = genotype.Width;
        for (int s = 0; s < genotype.Depths.Count; s++)
        {
            int cout = genotype.Width << s;
            for (int b = 0; b < genotype.Depths[s]; b++)
            {
                string p = $"layer{s + 1}.{b.ToString(CultureInfo.InvariantCulture)}";
                int stride = s > 0 && b == 0 ? 2 : 1;
                string y = g.Relu(g.BatchNorm(g.Conv(x, p + ".conv1", stride, 1), p + ".bn1"));
                y = g.BatchNorm(g.Conv(y, p + ".conv2", 1, 1), p + ".bn2");
                string shortcut = x;
                if (stride != 1 || cin != cout)
                    shortcut = genotype.Shortcut == ShortcutKind.Projection
                        ? g.BatchNorm(g.Conv(x, p + ".shortcut.0", stride, 0), p + ".shortcut.1")
                        : g.ShortcutA(x, cin, cout, stride);
                x = g.Relu(g.Add(y, shortcut));
                cin = cout;
            }
        }
        string pooled = g.Node("GlobalAveragePool", [x]);
        string flat = g.Node("Flatten", [pooled], attributes: [GraphBuilder.Int("axis", 1)]);
        g.Node("Gemm", [flat, g.Weight("fc.weight"), g.Weight("fc.bias")], output: "logits", attributes: [GraphBuilder.Int("transB", 1)]);
        return g.Model(genotype.Describe(), channels, classes);
    }

    /// <summary>Collects nodes and initializers (weights) of one ONNX graph.</summary>
    private sealed class GraphBuilder(IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, BatchNorm2d> batchNorms)
    {
        private readonly List<OnnxMessage> _nodes = [];
        private readonly List<OnnxMessage> _initializers = [];
        private readonly HashSet<string> _initialized = [];
        private int _count;

        public string Weight(string name)
        {
            if (!_initialized.Add(name)) return name;
            Tensor t = tensors.TryGetValue(name, out Tensor? v) ? v : throw new InvalidDataException($"export --onnx: the model has no tensor \"{name}\"");
            _initializers.Add(FloatTensor(name, t.ShapeArray, t.Span));
            return name;
        }

        private string Constant(string name, int[] shape, ReadOnlySpan<float> values)
        {
            if (_initialized.Add(name)) _initializers.Add(FloatTensor(name, shape, values));
            return name;
        }

        private string Int64s(string name, params long[] values)
        {
            if (!_initialized.Add(name)) return name;
            var t = new OnnxMessage();
            t.Int64(Onnx.TensorDims, values.Length).Int64(Onnx.TensorDataType, Onnx.DataTypeInt64).String(Onnx.TensorName, name);
            t.Bytes(Onnx.TensorRawData, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
            _initializers.Add(t);
            return name;
        }

        private static OnnxMessage FloatTensor(string name, int[] shape, ReadOnlySpan<float> values)
        {
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian");
            var t = new OnnxMessage();
            foreach (int d in shape) t.Int64(Onnx.TensorDims, d);
            t.Int64(Onnx.TensorDataType, Onnx.DataTypeFloat).String(Onnx.TensorName, name);
            t.Bytes(Onnx.TensorRawData, MemoryMarshal.AsBytes(values).ToArray());
            return t;
        }

        public static OnnxMessage Int(string name, long value) =>
            new OnnxMessage().String(Onnx.AttrName, name).Int64(Onnx.AttrI, value).Int64(Onnx.AttrType, Onnx.AttrTypeInt);

        public static OnnxMessage Ints(string name, params long[] values)
        {
            var a = new OnnxMessage().String(Onnx.AttrName, name);
            foreach (long v in values) a.Int64(Onnx.AttrInts, v);
            return a.Int64(Onnx.AttrType, Onnx.AttrTypeInts);
        }

        public static OnnxMessage Float(string name, float value) =>
            new OnnxMessage().String(Onnx.AttrName, name).Float(Onnx.AttrF, value).Int64(Onnx.AttrType, Onnx.AttrTypeFloat);

        /// <summary>Adds a node and returns the name of its (single) output.</summary>
        public string Node(string op, string[] inputs, string? output = null, OnnxMessage[]? attributes = null)
        {
            string name = $"{op}_{_count++}";
            output ??= name;
            var n = new OnnxMessage();
            foreach (string i in inputs) n.String(Onnx.NodeInput, i);
            n.String(Onnx.NodeOutput, output).String(Onnx.NodeName, name).String(Onnx.NodeOpType, op);
            foreach (OnnxMessage a in attributes ?? []) n.Message(Onnx.NodeAttribute, a);
            _nodes.Add(n);
            return output;
        }

        public string Conv(string x, string module, int stride, int padding)
        {
            Tensor w = tensors[module + ".weight"];
            string[] inputs = tensors.ContainsKey(module + ".bias") ? [x, Weight(module + ".weight"), Weight(module + ".bias")] : [x, Weight(module + ".weight")];
            return Node("Conv", inputs, attributes:
            [
                Ints("kernel_shape", w.Dim(2), w.Dim(3)), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding),
            ]);
        }

        public string BatchNorm(string x, string module)
        {
            BatchNorm2d bn = batchNorms.TryGetValue(module, out BatchNorm2d? m) ? m : throw new InvalidDataException($"export --onnx: no BatchNorm2d at \"{module}\"");
            int c = bn.RunningMean.Size;
            string scale = bn.Weight is null ? Constant(module + ".ones", [c], Enumerable.Repeat(1f, c).ToArray()) : Weight(module + ".weight");
            string bias = bn.Bias is null ? Constant(module + ".zeros", [c], new float[c]) : Weight(module + ".bias");
            return Node("BatchNormalization", [x, scale, bias, Weight(module + ".running_mean"), Weight(module + ".running_var")],
                attributes: [Float("epsilon", bn.Eps)]);
        }

        public string Relu(string x) => Node("Relu", [x]);

        public string Add(string a, string b) => Node("Add", [a, b]);

        /// <summary>Option A: keep every <paramref name="stride"/>-th row and column, then pad channels with zeros on both sides.</summary>
        public string ShortcutA(string x, int cin, int cout, int stride)
        {
            if (stride != 1)
                x = Node("Slice", [x, Int64s("shortcut_a.starts", 0, 0), Int64s("shortcut_a.ends", long.MaxValue, long.MaxValue),
                    Int64s("shortcut_a.axes", 2, 3), Int64s($"shortcut_a.steps{stride}", stride, stride)]);
            long pad = (cout - cin) / 2;
            return Node("Pad", [x, Int64s($"shortcut_a.pads{pad}", 0, pad, 0, 0, 0, pad, 0, 0)]);
        }

        public byte[] Model(string description, int channels, int classes)
        {
            var graph = new OnnxMessage();
            foreach (OnnxMessage n in _nodes) graph.Message(Onnx.GraphNode, n);
            graph.String(Onnx.GraphName, "sharpnas");
            foreach (OnnxMessage t in _initializers) graph.Message(Onnx.GraphInitializer, t);
            graph.Message(Onnx.GraphInput, ValueInfo("input", ("batch", 0), (null, channels), ("height", 0), ("width", 0)));
            graph.Message(Onnx.GraphOutput, ValueInfo("logits", ("batch", 0), (null, classes)));
            var model = new OnnxMessage()
                .Int64(Onnx.ModelIrVersion, Onnx.IrVersion)
                .String(Onnx.ModelProducerName, "SharpNas")
                .String(Onnx.ModelProducerVersion, typeof(OnnxExport).Assembly.GetName().Version?.ToString() ?? "0")
                .String(Onnx.ModelDocString, description);
            model.Message(Onnx.ModelGraph, graph);
            model.Message(Onnx.ModelOpsetImport, new OnnxMessage().String(Onnx.OpsetDomain, "").Int64(Onnx.OpsetVersion, Onnx.Opset));
            return model.ToArray();
        }

        /// <summary>A float tensor value: each dimension a name (dynamic) or a size.</summary>
        private static OnnxMessage ValueInfo(string name, params (string? Param, int Value)[] dims)
        {
            var shape = new OnnxMessage();
            foreach ((string? param, int value) in dims)
                shape.Message(Onnx.ShapeDim, param is null ? new OnnxMessage().Int64(Onnx.DimValue, value) : new OnnxMessage().String(Onnx.DimParam, param));
            var tensorType = new OnnxMessage().Int64(Onnx.TensorTypeElemType, Onnx.DataTypeFloat).Message(Onnx.TensorTypeShape, shape);
            return new OnnxMessage().String(Onnx.ValueInfoName, name).Message(Onnx.ValueInfoType, new OnnxMessage().Message(Onnx.TypeTensorType, tensorType));
        }
    }
}
