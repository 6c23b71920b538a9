using Microsoft.ML.OnnxRuntime;
using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;
using SharpNas.Search.Export;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Export;

/// <summary>
/// Every kind of network the searches produce, exported with random weights and non-trivial BN statistics, gives in
/// ONNX Runtime (fed [0, 1] pixels) the logits SharpNas gives (fed the same pixels normalised), within 1e-4 × max |logit|.
/// </summary>
public sealed class OnnxParityTests
{
    /// <summary>A NASNet cell pair using all 13 ops, add and concat, every input, in a normal and a reduction cell.</summary>
    internal static NasNetGenotype EveryOpNasNet(NasNetStem stem = NasNetStem.Cifar, bool auxHead = false) => new(
        NasNetCell.FromDecisions([0, 1, 0, 1, 0, 1, 2, 2, 3, 1, 0, 3, 4, 5, 0, 2, 1, 6, 7, 0, 4, 0, 8, 9, 1], "normal"),
        NasNetCell.FromDecisions([0, 1, 10, 11, 0, 1, 0, 12, 0, 1, 2, 0, 3, 4, 1, 1, 3, 5, 6, 0, 4, 1, 7, 8, 0, 5, 0, 9, 1, 1], "reduction"),
        CellsPerStage: 1, Filters: 8, Stem: stem, AuxHead: auxHead, DropPathKeepProb: 0.7, DenseDropout: 0.5);

    /// <summary>An EPNAS layer network with every layer type and activation, skips that need pooling, a projection or
    /// both, and several loose ends.</summary>
    internal static EpnasLayerGenotype EveryLayerEpnas() => new(
    [
        new(EpnasLayerType.Conv2d, 3, 2, 16, EpnasActivation.Relu, 0),
        new(EpnasLayerType.SepConv2d, 5, 2, 32, EpnasActivation.CRelu, 1, 0),      // skip 16 → 32 channels: 1×1 conv + BN
        new(EpnasLayerType.MaxPool, 3, 2, 32, EpnasActivation.Relu, 2),            // width 2: 16×16 → 8×8
        new(EpnasLayerType.Conv2d, 1, 2, 16, EpnasActivation.Elu, 3, 1),           // skip 16×16 → 8×8: average pooling
        new(EpnasLayerType.AvgPool, 3, 3, 16, EpnasActivation.Relu, 4),            // width 3 (padded): 8×8 → 4×4
        new(EpnasLayerType.SepConv2d, 7, 2, 64, EpnasActivation.Selu, 5, 2),       // skip 32@16×16 → 64@4×4: pool and project
        new(EpnasLayerType.Conv2d, 3, 2, 64, EpnasActivation.Swish, 6),
        new(EpnasLayerType.Add, 3, 2, 64, EpnasActivation.Relu, 7, 6),
        new(EpnasLayerType.Conv2d, 5, 2, 32, EpnasActivation.CRelu, 3),            // a second loose end, 8×8
    ], StemChannels: 16);

    /// <summary>An EPNAS cell with every branch type, pool widths 2 and 3, and propagated and internal branches.</summary>
    internal static EpnasModuleGenotype EveryBranchEpnas() => new(
    [
        new(EpnasBranchType.ConvConv, 3, 3, 8, 0, 0, false),
        new(EpnasBranchType.ConvMaxPool, 5, 3, 8, 1, 0, true),
        new(EpnasBranchType.ConvAvgPool, 1, 2, 12, 0, 1, false),
        new(EpnasBranchType.MaxPoolNone, 3, 2, 8, 3, -1, true),
        new(EpnasBranchType.AvgPoolNone, 3, 3, 8, 2, -1, true),
        new(EpnasBranchType.NoneNone, 3, 3, 8, 0, -1, true),
        new(EpnasBranchType.ConvNone, 7, 3, 16, 4, -1, true),
    ], CellsPerStage: 1, Stages: 2, Filters: 8);

    public static TheoryData<string> Networks => new()
    {
        "resnet20", "stagewise-uneven-A", "stagewise-uneven-B", "stagewise-bottleneck", "stagewise-cells", "nasnet-a-2x384", "nasnet-every-op", "nasnet-imagenet-stem",
        "epnas-layer", "epnas-module",
    };

    internal static (IArchitecture Architecture, InputSpec Input) Network(string name) => name switch
    {
        "resnet20" => (StageGenotype.ResNet(20), new InputSpec(3, 32, 32, 10)),
        "stagewise-uneven-A" => (new StageGenotype(StageModule.Basic, [1, 3, 2], 8, ShortcutKind.ZeroPad), new InputSpec(3, 16, 16, 10)),
        "stagewise-uneven-B" => (new StageGenotype(StageModule.Basic, [2, 1, 1, 2], 6, ShortcutKind.Projection), new InputSpec(1, 16, 16, 7)),
        "stagewise-bottleneck" => (new StageGenotype(StageModule.Bottleneck, [2, 1, 2], 4), new InputSpec(3, 16, 16, 10)),
        "stagewise-cells" => (new StageGenotype(StageModule.Cell, [1, 2, 1], 4), new InputSpec(3, 16, 16, 10)),
        // NASNet-A 2 @ 384 as the bench builds it, with the aux head (dropped at inference) and drop-path (identity).
        "nasnet-a-2x384" => (NasNetGenotype.NasNetA(cellsPerStage: 2, penultimateFilters: 384), new InputSpec(3, 32, 32, 10)),
        "nasnet-every-op" => (EveryOpNasNet(auxHead: true), new InputSpec(3, 24, 24, 10)),
        "nasnet-imagenet-stem" => (EveryOpNasNet(NasNetStem.ImageNet), new InputSpec(3, 35, 35, 5)),
        "epnas-layer" => (EveryLayerEpnas(), new InputSpec(3, 16, 16, 10)),
        "epnas-module" => (EveryBranchEpnas(), new InputSpec(3, 15, 15, 10)),
        _ => throw new ArgumentException(name),
    };

    private static (Module<Tensor, Tensor> Model, byte[] Onnx, ChannelStatistics Norm) Export(string name, InputSpec input, IArchitecture architecture)
    {
        Module<Tensor, Tensor> model = architecture.Build(input);
        var rng = new SeededRandom(11);
        model.Initialize(rng);
        OnnxTestKit.Randomize(model, rng);
        ChannelStatistics norm = OnnxTestKit.Normalization(input.Channels);
        byte[] onnx = OnnxExport.ToOnnx(architecture, model.StateDict().ToDictionary(t => t.Name, t => t.Tensor), input, norm);
        Assert.True(onnx.Length > 0, name);
        return (model, onnx, norm);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void ExportedNetwork_GivesSharpNasLogitsInOnnxRuntime_ForBatchesOf1And3(string name)
    {
        (IArchitecture architecture, InputSpec input) = Network(name);
        (Module<Tensor, Tensor> model, byte[] onnx, ChannelStatistics norm) = Export(name, input, architecture);
        int image = input.Channels * input.Height * input.Width;
        float[] pixels = OnnxTestKit.Pixels(new SeededRandom(5), 3 * image);

        using var options = new SessionOptions { IntraOpNumThreads = 1 };
        using var session = new InferenceSession(onnx, options);
        float[] expected = OnnxTestKit.SharpNasLogits(model, pixels, [3, input.Channels, input.Height, input.Width], norm);
        OnnxTestKit.AssertClose(expected, OnnxTestKit.Run(session, pixels, [3, input.Channels, input.Height, input.Width]), name + ", batch 3");
        // The same session with another batch size: batch is a dynamic axis.
        float[] first = OnnxTestKit.Run(session, pixels[..image], [1, input.Channels, input.Height, input.Width]);
        OnnxTestKit.AssertClose(expected[..input.NumClasses], first, name + ", batch 1");

        // The graph declares [batch, C, H, W] → [batch, classes], batch symbolic.
        NodeMetadata inMeta = session.InputMetadata[OnnxExport.InputName], outMeta = session.OutputMetadata[OnnxExport.OutputName];
        Assert.Equal([-1, input.Channels, input.Height, input.Width], inMeta.Dimensions);
        Assert.Equal("batch", inMeta.SymbolicDimensions[0]);
        Assert.Equal([-1, input.NumClasses], outMeta.Dimensions);
    }

    [Fact]
    public void ExportedModel_DeclaresOpset13AndRecordsItsInputContract()
    {
        (IArchitecture architecture, InputSpec input) = Network("stagewise-uneven-A");
        (_, byte[] onnx, _) = Export("stagewise-uneven-A", input, architecture);
        using var session = new InferenceSession(onnx);
        ModelMetadata meta = session.ModelMetadata;
        Assert.Equal("SharpNas", meta.ProducerName);
        Assert.Contains("[0, 1]", meta.CustomMetadataMap["sharpnas.input"]);
        Assert.Contains("\"stages\"", meta.CustomMetadataMap["sharpnas.architecture"]);
        // ORT does not expose the opset: read ModelProto's fields 1 (ir_version) and 8 (opset_import) off the wire.
        (long ir, string domain, long opset) = ReadVersions(onnx);
        Assert.Equal(7, ir);
        Assert.Equal("", domain);
        Assert.True(opset >= 13, $"opset {opset}");
    }

    private static (long IrVersion, string Domain, long Opset) ReadVersions(byte[] model)
    {
        long ir = -1, opset = -1;
        string domain = "?";
        var top = new Google.Protobuf.CodedInputStream(model);
        for (uint tag; (tag = top.ReadTag()) != 0;)
        {
            if (tag == 8) ir = top.ReadInt64();                 // field 1, varint
            else if (tag == 66)                                   // field 8, length-delimited OperatorSetIdProto
            {
                var set = new Google.Protobuf.CodedInputStream(top.ReadBytes().ToByteArray());
                domain = "";
                for (uint t; (t = set.ReadTag()) != 0;)
                {
                    if (t == 10) domain = set.ReadString();
                    else if (t == 16) opset = set.ReadInt64();
                    else set.SkipLastField();
                }
            }
            else top.SkipLastField();
        }
        return (ir, domain, opset);
    }

    [Fact]
    public void WithoutNormalization_TheGraphTakesNormalisedInput()
    {
        (IArchitecture architecture, InputSpec input) = Network("epnas-layer");
        Module<Tensor, Tensor> model = architecture.Build(input);
        model.Initialize(new SeededRandom(3));
        byte[] onnx = OnnxExport.ToOnnx(architecture, model, input, normalization: null);
        float[] x = OnnxTestKit.Pixels(new SeededRandom(4), 2 * 3 * 16 * 16);
        OnnxTestKit.AssertClose(OnnxTestKit.SharpNasLogits(model, x, [2, 3, 16, 16], null), OnnxTestKit.OrtLogits(onnx, x, [2, 3, 16, 16]), "no normalisation");
    }
}
