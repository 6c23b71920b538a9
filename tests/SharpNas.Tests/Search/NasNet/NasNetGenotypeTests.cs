using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.NasNet;

namespace SharpNas.Tests.Search.NasNet;

/// <summary>The NASNet cell genotype: JSON, validation, the flat decision form, NASNet-A.</summary>
public sealed class NasNetGenotypeTests
{
    /// <summary>A cell using concat combines and reading earlier blocks, so that JSON and decisions cover every field.</summary>
    internal static NasNetCell ConcatCell { get; } = new(
    [
        new(0, 1, NasNetOp.Conv1x3Then3x1, NasNetOp.MaxPool5x5, NasNetCombine.Concat),
        new(2, 0, NasNetOp.Identity, NasNetOp.DilatedConv3x3),
        new(3, 2, NasNetOp.AvgPool3x3, NasNetOp.SepConv7x7, NasNetCombine.Concat),
    ]);

    private static GenotypeException ParseFails(string json) =>
        Assert.Throws<GenotypeException>(() => ArchitectureJson.Parse(json, "arch.json"));

    private static string NasNetAJsonWith(Action<JsonObject> edit)
    {
        JsonObject o = NasNetGenotype.NasNetA().ToJson();
        edit(o);
        return o.ToJsonString();
    }

    [Fact]
    public void NasNetA_JsonRoundTrip_GivesAnEqualGenotype()
    {
        NasNetGenotype g = NasNetGenotype.NasNetA(6, 768, auxHead: true, dropPathKeepProb: 0.6);
        var back = Assert.IsType<NasNetGenotype>(ArchitectureJson.Parse(g.ToJson().ToJsonString(), "arch.json"));
        Assert.Equal(g, back);
        Assert.True(back.IsNasNetA);
        Assert.Equal("nasnet", back.ToJson()["kind"]!.GetValue<string>());
        Assert.Contains("nasnet", ArchitectureJson.Kinds);
    }

    [Fact]
    public void ConcatCells_JsonRoundTrip_KeepsEveryBlockFieldAndSetting()
    {
        var g = new NasNetGenotype(ConcatCell, NasNetCell.NasNetAReduction, 3, 10, NasNetStem.ImageNet, AuxHead: true,
            DropPathKeepProb: 0.7, StemMultiplier: 1.5, DenseDropout: 0.5);
        var back = Assert.IsType<NasNetGenotype>(ArchitectureJson.Parse(g.ToJson().ToJsonString(), "arch.json"));
        Assert.Equal(g, back);
        Assert.Null(back.Normal.ExplicitOutput);
        Assert.Equal([3, 4, 5, 6], back.Reduction.ExplicitOutput!);
    }

    [Fact]
    public void CellGivenByName_ReadsNasNetA()
    {
        string json = """{"kind": "nasnet", "cellsPerStage": 2, "filters": 16, "normal": "nasnet-a", "reduction": "nasnet-a"}""";
        var g = Assert.IsType<NasNetGenotype>(ArchitectureJson.Parse(json, "arch.json"));
        Assert.True(g.IsNasNetA);
        Assert.Equal(384, g.PenultimateFilters);
        Assert.False(g.AuxHead);
        Assert.Equal(1.0, g.DropPathKeepProb);
    }

    [Fact]
    public void BlockReadingALaterState_ThrowsNamingTheBlockAndField()
    {
        string json = NasNetAJsonWith(o => o["normal"]!["blocks"]![2]!["input1"] = 5);
        GenotypeException e = ParseFails(json);
        Assert.Contains("arch.json: normal.blocks[2].input1 = 5", e.Message);
        Assert.Contains("does not exist yet", e.Message);
        Assert.Contains("0..3", e.Message);
    }

    [Fact]
    public void UnknownOp_ThrowsNamingTheBlockFieldAndTheAllowedOps()
    {
        string json = NasNetAJsonWith(o => o["reduction"]!["blocks"]![1]!["op2"] = "sep_conv_9x9");
        GenotypeException e = ParseFails(json);
        Assert.Contains("arch.json: reduction.blocks[1].op2", e.Message);
        Assert.Contains("\"sep_conv_9x9\"", e.Message);
        Assert.Contains("sep_conv_7x7", e.Message);
    }

    [Fact]
    public void UnknownCombine_ThrowsNamingTheBlockAndField()
    {
        GenotypeException e = ParseFails(NasNetAJsonWith(o => o["normal"]!["blocks"]![4]!["combine"] = "multiply"));
        Assert.Contains("normal.blocks[4].combine", e.Message);
    }

    [Fact]
    public void MissingBlockField_ThrowsNamingIt()
    {
        GenotypeException e = ParseFails(NasNetAJsonWith(o => ((JsonObject)o["normal"]!["blocks"]![3]!).Remove("input2")));
        Assert.Contains("normal.blocks[3].input2", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(11)]
    public void BlockCountOutOfRange_ThrowsNamingBlocksAndTheCount(int blocks)
    {
        var list = Enumerable.Range(0, blocks).Select(_ => new NasNetBlock(0, 1, NasNetOp.Conv3x3, NasNetOp.Identity)).ToArray();
        GenotypeException e = Assert.Throws<GenotypeException>(() => new NasNetCell(list, null, "arch.json: normal"));
        Assert.Contains("arch.json: normal", e.Message);
        Assert.Contains("\"blocks\"", e.Message);
        Assert.Contains($"found {blocks}", e.Message);
    }

    [Fact]
    public void ExplicitOutputLeavingOutAnUnusedState_ThrowsNamingTheState()
    {
        GenotypeException e = ParseFails(NasNetAJsonWith(o => o["normal"]!["output"] = new JsonArray(1, 2, 3, 4, 5)));
        Assert.Contains("normal.output", e.Message);
        Assert.Contains("state 6 (block 4)", e.Message);
    }

    [Fact]
    public void BadSetting_ThrowsNamingTheField()
    {
        Assert.Contains("\"cellsPerStage\"", ParseFails(NasNetAJsonWith(o => o["cellsPerStage"] = 0)).Message);
        Assert.Contains("\"dropPathKeepProb\"", ParseFails(NasNetAJsonWith(o => o["dropPathKeepProb"] = 1.5)).Message);
        Assert.Contains("\"stem\"", ParseFails(NasNetAJsonWith(o => o["stem"] = "mobile")).Message);
        Assert.Contains("\"filters\"", ParseFails(NasNetAJsonWith(o => o.Remove("filters"))).Message);
    }

    [Fact]
    public void DefaultOutput_IsEveryStateNoBlockReads()
    {
        // Block 0 reads h0 and h1, block 1 reads block 0 twice, block 2 reads h1 and block 0: blocks 1 and 2 are unread.
        var cell = new NasNetCell(
        [
            new(0, 1, NasNetOp.Conv3x3, NasNetOp.Conv1x1),
            new(2, 2, NasNetOp.MaxPool3x3, NasNetOp.Identity),
            new(1, 2, NasNetOp.SepConv3x3, NasNetOp.AvgPool3x3),
        ]);
        Assert.Equal([3, 4], cell.OutputStates);
        var unreadH0 = new NasNetCell([new(1, 1, NasNetOp.Conv3x3, NasNetOp.Conv1x1)]);
        Assert.Equal([0, 2], unreadH0.OutputStates);
    }

    [Fact]
    public void NasNetACells_AreTheAuthorsCells()
    {
        Assert.Equal(
        [
            0, 1, 11, 10, 0,   // b0 = sep5x5(h0) + sep3x3(h1)
            1, 1, 11, 10, 0,   // b1 = sep5x5(h1) + sep3x3(h1)
            0, 1, 4, 0, 0,     // b2 = avg3x3(h0) + id(h1)
            1, 1, 4, 4, 0,     // b3 = avg3x3(h1) + avg3x3(h1)
            0, 0, 10, 0, 0,    // b4 = sep3x3(h0) + id(h0)
            0, 1, 11, 12, 0,   // b0 = sep5x5(h0) + sep7x7(h1)
            0, 1, 5, 12, 0,    // b1 = max3x3(h0) + sep7x7(h1)
            0, 1, 4, 11, 0,    // b2 = avg3x3(h0) + sep5x5(h1)
            3, 2, 0, 4, 0,     // b3 = id(b1) + avg3x3(b0)
            2, 0, 10, 5, 0,    // b4 = sep3x3(b0) + max3x3(h0)
        ], NasNetGenotype.NasNetA().ToDecisions());
        Assert.Equal([1, 2, 3, 4, 5, 6], NasNetCell.NasNetANormal.OutputStates);
        Assert.Equal([3, 4, 5, 6], NasNetCell.NasNetAReduction.OutputStates);
        Assert.Equal(768, NasNetGenotype.NasNetA(6, 768).PenultimateFilters);
        Assert.Equal(32, NasNetGenotype.NasNetA(6, 768).Filters);
    }

    [Fact]
    public void DecisionChoices_ListInputsOpsAndCombinePerBlock()
    {
        int[] choices = NasNetGenotype.DecisionChoices();
        Assert.Equal(50, choices.Length);
        Assert.Equal([2, 2, 13, 13, 2, 3, 3, 13, 13, 2], choices[..10]);
        Assert.Equal([6, 6, 13, 13, 2], choices[20..25]);
        Assert.Equal(choices[..25], choices[25..]);
    }

    [Fact]
    public void RandomDecisions_RoundTripThroughTheGenotype()
    {
        var rng = new SeededRandom(7);
        for (int trial = 0; trial < 20; trial++)
        {
            int blocks = 1 + rng.NextInt(NasNetCell.MaxBlocks);
            int[] choices = NasNetGenotype.DecisionChoices(blocks);
            int[] decisions = choices.Select(c => rng.NextInt(c)).ToArray();
            NasNetGenotype g = NasNetGenotype.FromDecisions(decisions);
            Assert.Equal(decisions, g.ToDecisions());
            Assert.Equal(blocks, g.Normal.Blocks.Count);
            var back = Assert.IsType<NasNetGenotype>(ArchitectureJson.Parse(g.ToJson().ToJsonString(), "arch.json"));
            Assert.Equal(g, back);
        }
    }

    [Fact]
    public void WithDecisions_KeepsTheOtherSettings()
    {
        NasNetGenotype a = NasNetGenotype.NasNetA(4, 480, auxHead: true, dropPathKeepProb: 0.7);
        NasNetGenotype b = a.WithDecisions([.. ConcatCell.ToDecisions(), .. ConcatCell.ToDecisions()]);
        Assert.Equal((4, 20, true, 0.7), (b.CellsPerStage, b.Filters, b.AuxHead, b.DropPathKeepProb));
        Assert.Equal(ConcatCell, b.Normal);
        Assert.Equal(ConcatCell, b.Reduction);
    }

    [Fact]
    public void DecisionOutOfRange_ThrowsNamingTheBlockAndField()
    {
        int[] d = NasNetGenotype.NasNetA().ToDecisions();
        d[25 + 5 * 2 + 3] = 13;   // reduction cell, block 2, op2
        GenotypeException e = Assert.Throws<GenotypeException>(() => NasNetGenotype.FromDecisions(d));
        Assert.Contains("reduction.blocks[2].op2", e.Message);
        Assert.Contains("0..12", e.Message);
        d = NasNetGenotype.NasNetA().ToDecisions();
        d[5 * 1 + 0] = 3;         // normal cell, block 1, input1: only 0..2 exist
        e = Assert.Throws<GenotypeException>(() => NasNetGenotype.FromDecisions(d));
        Assert.Contains("normal.blocks[1].input1", e.Message);
    }
}
