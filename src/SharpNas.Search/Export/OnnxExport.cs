using System.Globalization;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;
using SharpNas.Search.Genotypes;
using SharpNas.Training;

namespace SharpNas.Search.Export;

/// <summary>What an export wrote and what a user of the file must know.</summary>
/// <param name="Path">The .onnx file written.</param>
/// <param name="Input">The input shape the network was built for.</param>
/// <param name="Normalization">The normalisation inside the graph, or null when the weights did not record it (the graph
/// then expects inputs already normalised).</param>
/// <param name="Notes">Warnings for the user (missing normalisation, assumed input size), empty when none.</param>
public sealed record OnnxExportResult(string Path, InputSpec Input, ChannelStatistics? Normalization, IReadOnlyList<string> Notes);

/// <summary>
/// Writes a network as an ONNX model (opset 13, IR 7) that ONNX Runtime and other tools run. The graph's input
/// <c>input</c> is float32 NCHW [batch, C, H, W] with pixels scaled to [0, 1]; the graph first subtracts the per-channel
/// mean and divides by the std that training used (recorded in <c>model.safetensors</c>, see <see cref="WeightsMetadata"/>),
/// then runs the network in inference form; output <c>logits</c> [batch, classes]. Batch is a dynamic axis.
/// <para>Each module type is written by its own emitter (<see cref="IOnnxEmitter"/>, looked up by type in an
/// <see cref="OnnxEmitterSet"/>); a module without one, or one no emitter reached, is an error naming its type and path.
/// Files are written to a temporary name and renamed, so a failed export leaves nothing behind.</para>
/// </summary>
public static class OnnxExport
{
    /// <summary>ONNX IR version written (7: ONNX 1.8, the first with opset 13).</summary>
    public const long IrVersion = 7;
    /// <summary>Operator set version of the default domain.</summary>
    public const long Opset = 13;
    /// <summary>Name of the graph input.</summary>
    public const string InputName = "input";
    /// <summary>Name of the graph output.</summary>
    public const string OutputName = "logits";

    /// <summary>Exports the model of a run folder (<c>arch.json</c> + <c>model.safetensors</c>; for a search, one of
    /// <c>RUN/trials/&lt;key&gt;/</c>) to <paramref name="outFile"/> (default <c>RUN/model.onnx</c>).</summary>
    public static OnnxExportResult ExportRunFolder(string runDir, string? outFile = null, OnnxEmitterSet? emitters = null)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"run folder {runDir} does not exist");
        string weights = Path.Combine(runDir, "model.safetensors");
        if (!File.Exists(weights))
            throw new FileNotFoundException($"{weights}: no weights; export takes a finished run folder (for a search, one of RUN/trials/<key>/), or --arch A --weights W", weights);
        SafetensorsFile file = Safetensors.Load(weights);
        string archPath = Path.Combine(runDir, "arch.json");
        IArchitecture architecture = File.Exists(archPath) ? ArchitectureJson.Load(archPath)
            : file.Metadata.TryGetValue(WeightsMetadata.ArchitectureKey, out string? json) ? ArchitectureJson.Parse(json, weights + " (metadata \"architecture\")")
            : throw new FileNotFoundException($"{runDir}: neither arch.json nor an \"architecture\" entry in model.safetensors", archPath);
        return Export(architecture, file, weights, outFile ?? Path.Combine(runDir, "model.onnx"), emitters);
    }

    /// <summary>Exports the architecture of <paramref name="archPath"/> (JSON) with the weights of
    /// <paramref name="weightsPath"/> (safetensors) to <paramref name="outFile"/>.</summary>
    public static OnnxExportResult ExportFiles(string archPath, string weightsPath, string outFile, OnnxEmitterSet? emitters = null)
    {
        IArchitecture architecture = ArchitectureJson.Load(archPath);
        if (!File.Exists(weightsPath)) throw new FileNotFoundException($"{weightsPath}: no such weights file", weightsPath);
        return Export(architecture, Safetensors.Load(weightsPath), weightsPath, outFile, emitters);
    }

    private static OnnxExportResult Export(IArchitecture architecture, SafetensorsFile file, string weightsPath, string outFile, OnnxEmitterSet? emitters)
    {
        var notes = new List<string>();
        InputSpec? recorded = WeightsMetadata.ReadInput(file.Metadata, weightsPath);
        InputSpec input = recorded ?? InferInput(architecture, file.ByName);
        if (recorded is null)
            notes.Add($"{weightsPath} does not record the input size (written by an older SharpNas): built for {input.Height}×{input.Width}, height and width left dynamic in the graph");
        ChannelStatistics? normalization = WeightsMetadata.ReadNormalization(file.Metadata, weightsPath);
        if (normalization is null)
            notes.Add($"{weightsPath} does not record the input normalisation: the graph has none, feed it normalised pixels, not [0, 1] pixels");

        Module<Tensor, Tensor> model = architecture.Build(input);
        try
        {
            model.LoadStateDict(file.ByName);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"{weightsPath} does not fit {architecture.Describe()} on {Shape(input)}: {e.Message}");
        }
        byte[] bytes = ToOnnx(architecture, model, input, normalization, fixedImageSize: recorded is not null, emitters);

        string? dir = Path.GetDirectoryName(Path.GetFullPath(outFile));
        if (dir is not null && !Directory.Exists(dir)) throw new DirectoryNotFoundException($"{outFile}: folder {dir} does not exist");
        string tmp = outFile + ".tmp";
        try
        {
            File.WriteAllBytes(tmp, bytes);
            File.Move(tmp, outFile, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
        return new OnnxExportResult(outFile, input, normalization, notes);
    }

    /// <summary>The ONNX model of <paramref name="architecture"/> with the weights of <paramref name="state"/>
    /// (every missing, unexpected or misshapen tensor is listed in one error).</summary>
    public static byte[] ToOnnx(IArchitecture architecture, IReadOnlyDictionary<string, Tensor> state, InputSpec input, ChannelStatistics? normalization,
        OnnxEmitterSet? emitters = null)
    {
        Module<Tensor, Tensor> model = architecture.Build(input);
        model.LoadStateDict(state);
        return ToOnnx(architecture, model, input, normalization, fixedImageSize: true, emitters);
    }

    /// <summary>The ONNX model of <paramref name="model"/>, built from <paramref name="architecture"/> for
    /// <paramref name="input"/>. With <paramref name="normalization"/> the graph takes [0, 1] pixels and normalises them;
    /// without, it takes the network's input as is. With <paramref name="fixedImageSize"/> the graph declares the input's
    /// height and width; else they are dynamic.</summary>
    public static byte[] ToOnnx(IArchitecture architecture, Module<Tensor, Tensor> model, InputSpec input, ChannelStatistics? normalization,
        bool fixedImageSize = true, OnnxEmitterSet? emitters = null)
    {
        var graph = new OnnxGraph();
        var context = new OnnxEmitContext(graph, emitters ?? OnnxEmitterSet.Default, architecture, input);
        string x = InputName;
        if (normalization is not null)
        {
            if (normalization.Channels != input.Channels)
                throw new InvalidDataException($"export --onnx: the normalisation has {normalization.Channels} channels, the network takes {input.Channels}");
            x = graph.Node("Sub", [x, graph.Floats("input_mean", [1, input.Channels, 1, 1], normalization.Mean.ToArray())], "normalize");
            x = graph.Node("Div", [x, graph.Floats("input_std", [1, input.Channels, 1, 1], normalization.Std.ToArray())], "normalize");
        }
        string logits = context.Emit(model, "", [x]);
        context.CheckCovered(model);
        graph.Node("Identity", [logits], "output", output: OutputName);

        var metadata = new Dictionary<string, string>
        {
            ["sharpnas.architecture"] = architecture.ToJson().ToJsonString(),
            ["sharpnas.input"] = Shape(input) + (normalization is null ? ", no normalisation in the graph: feed normalised pixels"
                : ", float32 NCHW pixels in [0, 1], normalised inside the graph: " + normalization),
        };
        return graph.ToModel(InputName, input.Channels, fixedImageSize ? input.Height : null, fixedImageSize ? input.Width : null,
            OutputName, input.NumClasses, architecture.Describe(), metadata);
    }

    /// <summary>Channels and classes from the weights (the first conv's input channels, the last dense layer's outputs),
    /// 32×32 images: for weights that do not record their input.</summary>
    private static InputSpec InferInput(IArchitecture architecture, IReadOnlyDictionary<string, Tensor> state)
    {
        var probe = architecture.Build(new InputSpec(3, 32, 32, 10)).NamedModules().ToList();
        string? conv = probe.FirstOrDefault(m => m.Module is Conv2d).Path;
        string? dense = probe.LastOrDefault(m => m.Module is Linear).Path;
        int Dim(string? path, int axis, int fallback) =>
            path is not null && state.TryGetValue(path + ".weight", out Tensor? t) && t.Rank > axis ? t.Dim(axis) : fallback;
        return new InputSpec(Dim(conv, 1, 3), 32, 32, Dim(dense, 0, 10));
    }

    private static string Shape(InputSpec input) =>
        string.Create(CultureInfo.InvariantCulture, $"{input.Channels}×{input.Height}×{input.Width} images, {input.NumClasses} classes");
}
