using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Search.StageWise;

/// <summary><c>sharpnas search stagewise --module bottleneck|cell</c> end to end on a tiny npy dataset.</summary>
public sealed class StageWiseCommandTests() : CommandTests("stagewise-command")
{
    private JsonObject Search(string module, string dir, bool baselines)
    {
        Assert.Equal(0, Run("search", "stagewise", "--data", TinyNpyData(), "--module", module, "--iterations", "1", "--epochs", "1",
            "--width", "2", "--val-size", "0.2", "--batch", "16", "--baselines", baselines ? "true" : "false", "--out", dir));
        return JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
    }

    [Fact]
    public void BottleneckSearch_WritesCandidatesOfBottleneckBlocksGrownByTwo()
    {
        string dir = Path.Combine(Dir, "bn");
        JsonObject results = Search("bottleneck", dir, baselines: false);
        JsonArray candidates = results["candidates"]!.AsArray();
        Assert.Equal(2, candidates.Count);
        Assert.All(candidates, c => Assert.Equal("bottleneck", c!["module"]!.GetValue<string>()));
        Assert.Equal([1, 1, 1], candidates[0]!["stage_depths"]!.AsArray().Select(d => d!.GetValue<int>()));
        Assert.All(candidates[1]!["stage_depths"]!.AsArray(), d => Assert.Contains(d!.GetValue<int>(), new[] { 1, 3 }));
        Assert.Equal([3, 3, 3], results["steps"]!.AsArray()[1]!["stage_depths"]!.AsArray().Select(d => d!.GetValue<int>()));
        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"));
        Assert.All(store.All(), t =>
        {
            Assert.Equal(TrialStatus.Completed, t.Status);
            Assert.Equal("bottleneck", t.Genotype["module"]!.GetValue<string>());
        });
        var arch = Assert.IsType<StageGenotype>(ArchitectureJson.Load(Path.Combine(dir, store.Find("iter1/candidate")!.ArtifactDir!, "arch.json")));
        Assert.Equal(StageModule.Bottleneck, arch.Module);
    }

    [Fact]
    public void CellSearch_WritesCandidatesOfCellsGrownByOne()
    {
        string dir = Path.Combine(Dir, "cell");
        JsonObject results = Search("cell", dir, baselines: true);
        JsonArray candidates = results["candidates"]!.AsArray();
        Assert.Equal(2, candidates.Count);
        Assert.Equal([2, 2, 2], results["steps"]!.AsArray()[1]!["stage_depths"]!.AsArray().Select(d => d!.GetValue<int>()));
        Assert.All(candidates, c => Assert.True(c!["params"]!.GetValue<long>() > 0 && c["flops"]!.GetValue<long>() > 0));
        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"));
        Assert.All(store.All(), t => Assert.Equal("cell", t.Genotype["module"]!.GetValue<string>()));
        Assert.NotEmpty(results["baselines"]!.AsArray());
        Assert.True(results["ensemble"]!["test_accuracy"]!.GetValue<double>() is >= 0 and <= 1);   // averaged softmax of the candidates
    }

    [Fact]
    public void AnUnknownModule_IsAOneLineErrorWithExitCodeTwo() =>
        Assert.Equal(2, Run("search", "stagewise", "--data", TinyNpyData(), "--module", "dense", "--out", Path.Combine(Dir, "x")));
}
