using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Cli;

/// <summary>The search commands end to end on a tiny npy dataset: exit code, result files, trial table.</summary>
public sealed class SearchCommandTests() : CommandTests("search")
{
    [Fact]
    public void StageWiseSearchWritesResultsAndACompletedTrialTable()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "sw");
        string[] args = ["search", "stagewise", "--data", data, "--iterations", "1", "--growth", "1", "--epochs", "1", "--width", "4",
            "--val-size", "0.2", "--batch", "16", "--out", dir];
        Assert.Equal(0, Run(args));
        JsonObject results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(1, results["iterations"]!.GetValue<int>());
        Assert.Equal(2, results["candidates"]!.AsArray().Count);   // the initial network and candidate 1
        Assert.True(results["trials_trained"]!.GetValue<int>() >= 3);
        foreach (JsonNode? c in results["candidates"]!.AsArray())
            Assert.True(c!["params"]!.GetValue<long>() > 0 && c["stage_depths"]!.AsArray().Count == 3);
        using (var store = new SqliteTrialStore(Path.Combine(dir, "trials.db")))
            Assert.All(store.All(), t => Assert.Equal(TrialStatus.Completed, t.Status));
        Assert.True(File.Exists(Path.Combine(dir, "results.md")));
        // The same command on the finished folder trains nothing again and ends the same way.
        Assert.Equal(0, Run(args));
    }

    [Fact]
    public void NasNetSearchTrainsItsBudgetOfChildren()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "nn");
        Assert.Equal(0, Run("search", "nasnet", "--data", data, "--budget", "2", "--blocks", "2", "--filters", "4", "--strategy", "random",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        JsonObject results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(2, results["trials_trained"]!.GetValue<int>());
        Assert.True(File.Exists(Path.Combine(dir, "best-arch.json")));
    }

    [Fact]
    public void EpnasSearchReportsTopModelsAndConstraints()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "ep");
        Assert.Equal(0, Run("search", "epnas", "--data", data, "--episodes", "1", "--steps", "1", "--branches", "2", "--top-k", "2",
            "--max-params", "20K", "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        JsonObject results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(20_000, results["constraints"]!["max_params"]!.GetValue<long>());
        Assert.NotEmpty(results["top"]!.AsArray());
        Assert.True(File.Exists(Path.Combine(dir, "top-1", "arch.json")));
    }

    [Fact]
    public void BadInputIsAOneLineErrorWithExitCodeTwo()
    {
        Assert.Equal(2, Run("search", "stagewise", "--data", "nosuchset:/x"));
        Assert.Equal(2, Run("search", "stagewise", "--criterion", "magic"));
        Assert.Equal(2, Run("search", "epnas", "--max-params", "-3"));
        Assert.Equal(2, Run("search", "nasnet", "--strategy", "hill-climbing"));
    }
}
