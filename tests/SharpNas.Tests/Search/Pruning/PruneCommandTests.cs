using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Search.Pruning;

/// <summary><c>--prune</c> on the search commands, end to end on a tiny npy dataset.</summary>
public sealed class PruneCommandTests() : CommandTests("prune-command")
{
    /// <summary>The stored trials in creation order, and the decisions the pruner takes on their stored curves replayed one
    /// after the other (a pruned trial's curve is padded with NaN, which a pruner that agrees never reads).</summary>
    private static (Trial[] Trials, int[] Replayed) Replay(string dir, IPruner pruner, int epochs)
    {
        using var store = new SqliteTrialStore(Path.Combine(dir, "trials.db"));
        Trial[] trials = store.All().ToArray();
        double[][] curves = trials.Select(t =>
        {
            double[] c = t.Metrics!["valid_curve"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            return c.Concat(Enumerable.Repeat(double.NaN, epochs - c.Length)).ToArray();
        }).ToArray();
        return (trials, ScriptedSearch.EpochsReached(pruner, curves));
    }

    [Fact]
    public void NasNetSearchWithMedianPruning_StoresPrunedChildren_AsTheMedianRuleDecides()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "nn");
        Assert.Equal(0, Run("search", "nasnet", "--data", data, "--budget", "4", "--blocks", "2", "--filters", "4", "--strategy", "random",
            "--child-epochs", "2", "--prune", "median", "--prune-warmup", "0", "--prune-min-trials", "1",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        (Trial[] trials, int[] replayed) = Replay(dir, new MedianPruner(new MedianPrunerOptions { WarmupEpochs = 0, MinCompletedTrials = 1 }), 2);
        Assert.Equal(4, trials.Length);
        Assert.Equal(replayed, trials.Select(t => t.Metrics!["epochs_reached"]!.GetValue<int>()));
        Assert.Equal(replayed.Select(r => r < 2 ? TrialStatus.Pruned : TrialStatus.Completed), trials.Select(t => t.Status));

        JsonObject results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal("median", results["prune"]!.GetValue<string>());
        Assert.Equal(replayed.Sum(), results["epochs_trained"]!.GetValue<int>());
        Assert.Equal(replayed.Count(r => r < 2), results["trials_pruned"]!.GetValue<int>());
        string bestKey = results["best"]!["key"]!.GetValue<string>();
        Assert.Equal(TrialStatus.Completed, trials.Single(t => t.Key == bestKey).Status);
    }

    [Fact]
    public void EpnasSearchWithAshaPruning_StoresPrunedChildren_AsAshaDecides()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "ep");
        Assert.Equal(0, Run("search", "epnas", "--data", data, "--episodes", "1", "--steps", "2", "--branches", "2", "--top-k", "2",
            "--child-epochs", "3", "--prune", "asha", "--asha-eta", "2",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        (Trial[] trials, int[] replayed) = Replay(dir, new AshaPruner(new AshaOptions { ReductionFactor = 2 }), 3);
        Assert.Equal(4, trials.Length);
        Assert.Equal(replayed, trials.Select(t => t.Metrics!["epochs_reached"]!.GetValue<int>()));
        Assert.Equal(3, replayed[0]);   // the first child is judged against nobody
        JsonObject results = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal("asha", results["prune"]!.GetValue<string>());
        Assert.Equal(replayed.Sum(), results["epochs_trained"]!.GetValue<int>());
        var completed = trials.Where(t => t.Status == TrialStatus.Completed).Select(t => t.Key).ToHashSet();
        Assert.All(results["top"]!.AsArray(), t => Assert.Contains(t!["key"]!.GetValue<string>(), completed));
    }

    [Fact]
    public void BadPruningOptionsAreOneLineErrorsWithExitCodeTwo()
    {
        Assert.Equal(2, Run("search", "nasnet", "--prune", "sometimes"));
        Assert.Equal(2, Run("search", "nasnet", "--prune", "asha", "--asha-eta", "1"));
        Assert.Equal(2, Run("search", "epnas", "--prune", "median", "--prune-min-trials", "0"));
        string data = TinyNpyData();
        Assert.Equal(2, Run("search", "nasnet", "--data", data, "--prune", "median", "--val-size", "0", "--train-subset", "0",
            "--out", Path.Combine(Dir, "noval")));
    }
}
