using System.Globalization;
using System.Runtime.InteropServices;
using Google.Protobuf;
using SharpNas.Engine;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export.Proto;

namespace SharpNas.Search.Export;

/// <summary>
/// One ONNX graph being written: nodes in topological order and the constant tensors (weights) they read. Values
/// are named strings; every method that adds a node returns the name of its output. Weights keep their state-dict
/// names (<c>cells.3.comb_iter_0_left.depthwise_1.weight</c>), so a reader of the file finds each tensor by the name
/// it has in <c>model.safetensors</c>. Emitters (<see cref="IOnnxEmitter"/>) call the operator helpers here; the
/// protobuf classes behind them (generated from <c>onnx.proto</c>) stay internal.
/// </summary>
public sealed class OnnxGraph
{
    private readonly List<NodeProto> _nodes = [];
    private readonly List<TensorProto> _initializers = [];
    private readonly HashSet<string> _initialized = [];
    private int _count;

    /// <summary>Number of nodes so far.</summary>
    public int NodeCount => _nodes.Count;

    // ---- constants ----

    /// <summary>Adds <paramref name="tensor"/> as a float32 initializer named <paramref name="name"/> (once) and returns the name.</summary>
    public string Weight(string name, Tensor tensor) => Floats(name, tensor.ShapeArray, tensor.Span);

    /// <summary>Adds a float32 constant of <paramref name="shape"/> (once per name) and returns its name.</summary>
    public string Floats(string name, int[] shape, ReadOnlySpan<float> values)
    {
        if (!_initialized.Add(name)) return name;
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian");
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values)) };
        foreach (int d in shape) t.Dims.Add(d);
        _initializers.Add(t);
        return name;
    }

    /// <summary>Adds a 1-D int64 constant (shapes, pads, slice bounds) and returns its name; equal values share one constant.</summary>
    public string Int64s(params long[] values)
    {
        string name = "const_i64_" + string.Join("_", values.Select(v => v == long.MaxValue ? "max" : v.ToString(CultureInfo.InvariantCulture)));
        if (!_initialized.Add(name)) return name;
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.RawData = ByteString.CopyFrom(MemoryMarshal.AsBytes(values.AsSpan()));
        _initializers.Add(t);
        return name;
    }

    // ---- nodes ----

    /// <summary>Adds a node of operator <paramref name="op"/> and returns the name of its single output
    /// (<paramref name="output"/>, or one made from <paramref name="scope"/> and the operator).</summary>
    public string Node(string op, IReadOnlyList<string> inputs, string scope, IReadOnlyList<OnnxAttribute>? attributes = null, string? output = null)
    {
        string name = $"{(scope.Length == 0 ? "graph" : scope)}/{op}_{_count++.ToString(CultureInfo.InvariantCulture)}";
        var n = new NodeProto { Name = name, OpType = op };
        n.Input.AddRange(inputs);
        n.Output.Add(output ?? name);
        foreach (OnnxAttribute a in attributes ?? []) n.Attribute.Add(a.ToProto());
        _nodes.Add(n);
        return output ?? name;
    }

    /// <summary>Convolution with <paramref name="conv"/>'s weight, bias, strides, pads, dilations and groups
    /// (weights named <c>{path}.weight</c>, <c>{path}.bias</c>).</summary>
    public string Conv(string x, Conv2d conv, string path)
    {
        var o = conv.Options;
        var inputs = new List<string> { x, Weight(path + ".weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(Weight(path + ".bias", conv.Bias));
        return Node("Conv", inputs, path,
        [
            OnnxAttribute.Ints("kernel_shape", conv.Weight.Dim(2), conv.Weight.Dim(3)),
            OnnxAttribute.Ints("strides", o.StrideH, o.StrideW),
            OnnxAttribute.Ints("pads", o.PadTop, o.PadLeft, o.PadBottom, o.PadRight),
            OnnxAttribute.Ints("dilations", o.DilationH, o.DilationW),
            OnnxAttribute.Int("group", o.Groups),
        ]);
    }

    /// <summary>Inference-mode batch normalisation with <paramref name="bn"/>'s running statistics (γ = 1, β = 0
    /// when it is not affine).</summary>
    public string BatchNorm(string x, BatchNorm2d bn, string path)
    {
        int c = bn.RunningMean.Size;
        string scale = bn.Weight is null ? Floats(path + ".ones", [c], Enumerable.Repeat(1f, c).ToArray()) : Weight(path + ".weight", bn.Weight);
        string bias = bn.Bias is null ? Floats(path + ".zeros", [c], new float[c]) : Weight(path + ".bias", bn.Bias);
        return Node("BatchNormalization", [x, scale, bias, Weight(path + ".running_mean", bn.RunningMean), Weight(path + ".running_var", bn.RunningVar)],
            path, [OnnxAttribute.Float("epsilon", bn.Eps)]);
    }

    /// <summary>y = x·Wᵀ + b for <paramref name="x"/> of shape [N, in].</summary>
    public string Dense(string x, Linear linear, string path)
    {
        var inputs = new List<string> { x, Weight(path + ".weight", linear.Weight) };
        if (linear.Bias is not null) inputs.Add(Weight(path + ".bias", linear.Bias));
        return Node("Gemm", inputs, path, [OnnxAttribute.Int("transB", 1)]);
    }

    /// <summary>Max or average pooling; <paramref name="pads"/> are (top, left, bottom, right). Average pooling divides by
    /// the window's in-image pixels unless <paramref name="countIncludePad"/>; max pooling never picks padding.</summary>
    public string Pool(string x, bool max, int kernelH, int kernelW, int strideH, int strideW, (int Top, int Left, int Bottom, int Right) pads,
        bool countIncludePad, string scope)
    {
        var attributes = new List<OnnxAttribute>
        {
            OnnxAttribute.Ints("kernel_shape", kernelH, kernelW),
            OnnxAttribute.Ints("strides", strideH, strideW),
            OnnxAttribute.Ints("pads", pads.Top, pads.Left, pads.Bottom, pads.Right),
        };
        if (!max) attributes.Add(OnnxAttribute.Int("count_include_pad", countIncludePad ? 1 : 0));
        return Node(max ? "MaxPool" : "AveragePool", [x], scope, attributes);
    }

    /// <summary>Mean over height and width: [N, C, H, W] → [N, C].</summary>
    public string GlobalAveragePool(string x, string scope) =>
        Node("Flatten", [Node("GlobalAveragePool", [x], scope)], scope, [OnnxAttribute.Int("axis", 1)]);

    /// <summary>Concatenation along channels (the input itself when there is one).</summary>
    public string ConcatChannels(IReadOnlyList<string> parts, string scope) =>
        parts.Count == 1 ? parts[0] : Node("Concat", parts, scope, [OnnxAttribute.Int("axis", 1)]);

    /// <summary>max(x, 0).</summary>
    public string Relu(string x, string scope) => Node("Relu", [x], scope);

    /// <summary>a + b.</summary>
    public string Add(string a, string b, string scope) => Node("Add", [a, b], scope);

    /// <summary>Zero padding of an NCHW value by (top, left, bottom, right) pixels and (front, back) channels.</summary>
    public string PadZeros(string x, string scope, long top = 0, long left = 0, long bottom = 0, long right = 0, long channelsBefore = 0, long channelsAfter = 0) =>
        Node("Pad", [x, Int64s(0, channelsBefore, top, left, 0, channelsAfter, bottom, right)], scope);

    /// <summary>Every <paramref name="step"/>-th row and column of an NCHW value, from (<paramref name="start"/>, <paramref name="start"/>).</summary>
    public string Subsample(string x, int start, int step, string scope) =>
        Node("Slice", [x, Int64s(start, start), Int64s(long.MaxValue, long.MaxValue), Int64s(2, 3), Int64s(step, step)], scope);

    // ---- model ----

    /// <summary>The model file: graph input <paramref name="input"/> (float32, [batch, channels, height, width], batch
    /// dynamic, height and width dynamic when null), output <paramref name="output"/> (float32, [batch, classes]).</summary>
    internal byte[] ToModel(string input, int channels, int? height, int? width, string output, int classes, string description,
        IReadOnlyDictionary<string, string> metadata)
    {
        var graph = new GraphProto { Name = "sharpnas", DocString = description };
        graph.Node.AddRange(_nodes);
        graph.Initializer.AddRange(_initializers);
        graph.Input.Add(ValueInfo(input, Dim("batch"), Dim(channels), height is int h ? Dim(h) : Dim("height"), width is int w ? Dim(w) : Dim("width")));
        graph.Output.Add(ValueInfo(output, Dim("batch"), Dim(classes)));
        var model = new ModelProto
        {
            IrVersion = OnnxExport.IrVersion,
            ProducerName = "SharpNas",
            ProducerVersion = typeof(OnnxGraph).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = description,
            Graph = graph,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxExport.Opset });
        foreach ((string key, string value) in metadata) model.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        return model.ToByteArray();
    }

    private static TensorShapeProto.Types.Dimension Dim(long value) => new() { DimValue = value };

    private static TensorShapeProto.Types.Dimension Dim(string name) => new() { DimParam = name };

    private static ValueInfoProto ValueInfo(string name, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

/// <summary>A node attribute: an integer, a list of integers or a float.</summary>
public sealed record OnnxAttribute
{
    private OnnxAttribute(string name) => Name = name;

    /// <summary>The attribute's name (e.g. <c>kernel_shape</c>).</summary>
    public string Name { get; }
    private long? _int;
    private long[]? _ints;
    private float? _float;

    /// <summary>An integer attribute.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name) { _int = value };

    /// <summary>A list-of-integers attribute.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) => new(name) { _ints = values };

    /// <summary>A float attribute.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name) { _float = value };

    internal AttributeProto ToProto()
    {
        var a = new AttributeProto { Name = Name };
        if (_int is long i) (a.Type, a.I) = (AttributeProto.Types.AttributeType.Int, i);
        else if (_float is float f) (a.Type, a.F) = (AttributeProto.Types.AttributeType.Float, f);
        else
        {
            a.Type = AttributeProto.Types.AttributeType.Ints;
            a.Ints.AddRange(_ints!);
        }
        return a;
    }
}
