using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Search.Epnas;

/// <summary><c>sharpnas search epnas</c> end to end on a tiny npy dataset: prediction and sharing, the result files,
/// the trial table, the prediction check and bad input.</summary>
public sealed class EpnasCommandTests() : CommandTests("epnas-command")
{
    [Fact]
    public void SearchWithPredictionAndSharing_WritesEveryResultFile()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "ep");
        string[] args = ["search", "epnas", "--data", data, "--episodes", "2", "--steps", "2", "--branches", "2", "--top-k", "3", "--child-epochs", "2",
            "--predict", "--predict-batch", "8", "--share-params", "--max-params", "5K", "--max-flops", "300K", "--base-penalty", "0.5", "--train-subset", "0",
            "--val-size", "0.2", "--batch", "16", "--out", dir];
        Assert.Equal(0, Run(args));
        JsonObject r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(2, r["episodes"]!.GetValue<int>());
        Assert.Equal(8, r["trials_trained"]!.GetValue<int>());
        Assert.Equal(5_000, r["constraints"]!["max_params"]!.GetValue<long>());
        Assert.Equal(300_000, r["constraints"]!["max_flops"]!.GetValue<long>());
        Assert.Equal(0.5, r["constraints"]!["base_penalty"]!.GetValue<double>());
        JsonObject training = r["child_training"]!.AsObject();
        Assert.True(training["predict"]!.GetValue<bool>());
        Assert.True(training["share_params"]!.GetValue<bool>());
        Assert.Equal((1, 8), (training["epochs"]!.GetValue<int>(), training["batch"]!.GetValue<int>()));   // half of 2 epochs
        JsonArray top = r["top"]!.AsArray();
        Assert.InRange(top.Count, 1, 3);
        Assert.Equal("feasible", r["ranking"]!.GetValue<string>());   // the default: satisfying children first
        bool[] holdsInOrder = top.Select(t => t!["satisfies_constraints"]!.GetValue<bool>()).ToArray();
        Assert.Equal(holdsInOrder.OrderByDescending(h => h), holdsInOrder);
        Assert.InRange(r["children_satisfying"]!.GetValue<int>(), holdsInOrder.Count(h => h), 8);
        foreach (JsonNode? t in top)
        {
            foreach (string field in new[] { "genotype", "params", "flops", "intensity", "valid_accuracy", "reward", "satisfies_constraints" })
                Assert.NotNull(t![field]);
            bool holds = t!["params"]!.GetValue<long>() <= 5_000 && t["flops"]!.GetValue<long>() <= 300_000;
            Assert.Equal(holds, t["satisfies_constraints"]!.GetValue<bool>());
            Assert.Equal(2, t["constraint_usage"]!.AsArray().Count);
        }
        for (int i = 1; i <= top.Count; i++) Assert.True(File.Exists(Path.Combine(dir, $"top-{i}", "arch.json")));
        string md = File.ReadAllText(Path.Combine(dir, "results.md"));
        Assert.Contains("params ≤ 5,000", md);
        Assert.Contains("FLOPs ≤ 0.3M", md);
        using (var store = new SqliteTrialStore(Path.Combine(dir, "trials.db")))
            Assert.All(store.All(), t => Assert.Equal(TrialStatus.Completed, t.Status));

        Assert.Equal(0, Run(args));                                   // rerun: everything from the store
        JsonObject again = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!.AsObject();
        Assert.Equal(0, again["trials_trained_this_run"]!.GetValue<int>());
        Assert.Equal(r["top"]!.ToJsonString(), again["top"]!.ToJsonString());
    }

    [Fact]
    public void PredictCheck_ReportsKendallTauAndBothSchedulesTimes()
    {
        string data = TinyNpyData(), dir = Path.Combine(Dir, "pc");
        Assert.Equal(0, Run("search", "epnas", "--data", data, "--predict-check", "3", "--child-epochs", "2", "--predict-batch", "8",
            "--train-subset", "0", "--val-size", "0.2", "--batch", "16", "--out", dir));
        JsonObject r = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "predict-check.json")))!.AsObject();
        Assert.Equal(3, r["children"]!.GetValue<int>());
        Assert.InRange(r["kendall_tau"]!.GetValue<double>(), -1, 1);
        Assert.Equal((2, 16), (r["full"]!["epochs"]!.GetValue<int>(), r["full"]!["batch"]!.GetValue<int>()));
        Assert.Equal((1, 8), (r["predict"]!["epochs"]!.GetValue<int>(), r["predict"]!["batch"]!.GetValue<int>()));
        Assert.Equal(3, r["rows"]!.AsArray().Count);
        Assert.True(r["full_train_seconds"]!.GetValue<double>() > 0);
        Assert.True(File.Exists(Path.Combine(dir, "predict-check.md")));
    }

    [Fact]
    public void BadOptions_AreOneLineErrorsWithExitCodeTwo()
    {
        Assert.Equal(2, Run("search", "epnas", "--pattern", "tree"));
        Assert.Equal(2, Run("search", "epnas", "--predict-check", "1"));
        Assert.Equal(2, Run("search", "epnas", "--seed-insertions", "-1"));
        Assert.Equal(2, Run("search", "epnas", "--predict-epochs", "0"));
        Assert.Equal(2, Run("search", "epnas", "--base-penalty", "1.5"));
        Assert.Equal(2, Run("search", "epnas", "--rank", "accuracy"));
    }
}
