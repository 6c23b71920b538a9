using SharpNas.Engine.Models;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;

namespace SharpNas.Tests.Search.StageWise;

public sealed class StageGenotypeJsonTests
{
    [Theory]
    [InlineData(StageModule.Basic)]
    [InlineData(StageModule.Bottleneck)]
    [InlineData(StageModule.Cell)]
    public void EveryModuleKind_RoundTripsThroughArchitectureJson(StageModule module)
    {
        var g = new StageGenotype(module, [3, 1, 4], Width: 8, module == StageModule.Basic ? ShortcutKind.Projection : ShortcutKind.ZeroPad);
        string json = g.ToJson().ToJsonString();
        var back = Assert.IsType<StageGenotype>(ArchitectureJson.Parse(json, "arch.json"));
        Assert.Equal(module, back.Module);
        Assert.Equal([3, 1, 4], back.Depths);
        Assert.Equal(8, back.Width);
        Assert.Equal(json, back.ToJson().ToJsonString());
    }

    [Fact]
    public void ModuleNames_AreWrittenInLowerCase_AndShortcutOnlyForBasicBlocks()
    {
        Assert.Equal("bottleneck", new StageGenotype(StageModule.Bottleneck, [1]).ToJson()["module"]!.GetValue<string>());
        Assert.Equal("cell", new StageGenotype(StageModule.Cell, [1]).ToJson()["module"]!.GetValue<string>());
        Assert.Null(new StageGenotype(StageModule.Cell, [1]).ToJson()["shortcut"]);
        Assert.Equal("A", new StageGenotype(StageModule.Basic, [1]).ToJson()["shortcut"]!.GetValue<string>());
    }

    [Fact]
    public void AnOldFileWithoutModule_ReadsAsBasicBlocks()
    {
        var g = Assert.IsType<StageGenotype>(ArchitectureJson.Parse("""{"kind": "stages", "depths": [3, 3, 3], "width": 16, "shortcut": "A"}""", "old.json"));
        Assert.Equal(StageModule.Basic, g.Module);
        Assert.Equal(StageGenotype.ResNet(20).ToJson().ToJsonString(), g.ToJson().ToJsonString());
        Assert.Equal([3, 3, 3], g.Depths);
    }

    [Theory]
    [InlineData("""{"kind": "stages", "module": "dense", "depths": [1]}""", "field \"module\" must be \"basic\", \"bottleneck\" or \"cell\", found \"dense\"")]
    [InlineData("""{"kind": "stages", "module": 3, "depths": [1]}""", "field \"module\" must be a string")]
    [InlineData("""{"kind": "stages", "module": "cell", "depths": [2, 0]}""", "field \"depths\"[1] must be in 1..1000, found 0")]
    [InlineData("""{"kind": "stages", "module": "bottleneck", "depths": [2], "width": 0}""", "field \"width\" must be in 1..4096, found 0")]
    [InlineData("""{"kind": "stages", "module": "bottleneck"}""", "field \"depths\" is missing")]
    [InlineData("""{"kind": "stages", "depths": [1], "shortcut": 1}""", "field \"shortcut\" must be a string")]
    public void ABadGenotype_IsAnErrorNamingTheField(string json, string expected)
    {
        var e = Assert.Throws<GenotypeException>(() => ArchitectureJson.Parse(json, "arch.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("arch.json: ", e.Message);
    }
}
