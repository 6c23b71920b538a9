using SharpNas.Search.Benchmarks;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Tests.Search.Strategies;

public sealed class NasBench201Tests
{
    private static readonly Lazy<NasBench201Table> Shared = new(() =>
        NasBench201Table.LoadFromDirectory(SharedFolder.Require(NasBench201Table.EnvironmentVariable, "benchmarks")));

    private static NasBench201Table Table()
    {
        SharedFolder.Require(NasBench201Table.EnvironmentVariable, "benchmarks");   // skips (or fails under CI) first
        return Shared.Value;
    }

    private const string Best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|";

    [Fact]
    public void ArchString_RoundTripsAndFollowsTheBenchmarksEdgeOrder()
    {
        int[] sample = NasBench201Space.ParseArchString(Best);
        Assert.Equal([3, 3, 3, 1, 3, 2], sample);
        Assert.Equal(Best, NasBench201Space.ArchString(sample));
        Assert.Equal(["edge1<-0", "edge2<-0", "edge2<-1", "edge3<-0", "edge3<-1", "edge3<-2"], NasBench201Space.Instance.Decisions.Select(d => d.Name));
        Assert.Equal(15625.0, NasBench201Space.Instance.Size());
    }

    [Fact]
    public void ParseArchString_UnknownOperation_ThrowsNamingTheEdge()
    {
        var e = Assert.Throws<FormatException>(() => NasBench201Space.ParseArchString(Best.Replace("nor_conv_1x1~2", "conv_5x5~2")));
        Assert.Contains("conv_5x5~2", e.Message);
    }

    [SkippableFact]
    public void Table_HoldsEveryCell_WithTheReadmesMaxima()
    {
        NasBench201Table t = Table();
        int[] best = NasBench201Space.ParseArchString(Best);
        Assert.Equal(6111, t.Index(best));
        Assert.Equal(94.3733, t.Value("cifar10_test_acc", best), 4);
        Assert.Equal(91.6067, t.Value("cifar10_valid_acc", best), 4);
        Assert.Equal(94.3733, t.Column("cifar10_test_acc").Max(), 4);
        Assert.Equal(84.8920, t.Column("cifar10_valid_acc_12ep").Max(), 4);
        Assert.Contains("cifar10_valid_acc_12ep", Assert.Throws<ArgumentException>(() => t.Value("cifar10_valid", best)).Message);
    }

    [Fact]
    public void Load_MissingFile_ThrowsNamingThePathAndTheOption()
    {
        var e = Assert.Throws<FileNotFoundException>(() => NasBench201Table.Load(Path.Combine(Path.GetTempPath(), "absent-nb201", "x.csv")));
        Assert.Contains("absent-nb201", e.Message);
        Assert.Contains("--benchmarks", e.Message);
    }

    [SkippableFact]
    public void Evaluator_RewardsTwelveEpochValidation_AndChargesTwelveEpochsOfTrainingTime()
    {
        NasBench201Table t = Table();
        var protocol = new NasBench201Protocol();
        var ev = new NasBench201Evaluator(t, protocol);
        int[] s = NasBench201Space.ParseArchString(Best);
        DiscreteEvaluation e = ev.Evaluate(s, default);
        Assert.Equal(t.Value("cifar10_valid_acc_12ep", s) / 100, e.Reward, 12);
        Assert.Equal(12 * t.Value("cifar10valid_train_time_per_epoch_s", s), e.Cost, 9);
        Assert.Equal(6111, e.Metrics!["index"]!.GetValue<int>());
        Assert.Equal(12000.0, protocol.Budget.MaxCost);
    }

    [SkippableFact]
    public void Benchmark_PicksTheBestRewardCellOfEachRun_ReproduciblyAndWithinTheBudget()
    {
        NasBench201Table t = Table();
        var protocol = new NasBench201Protocol();
        foreach (NasBench201Entrant entrant in NasBench201Benchmark.Entrants("all").Where(e => e.Name is "random" or "evolution"))
        {
            NasBench201StrategyResult a = NasBench201Benchmark.Run(t, protocol, entrant, 8, 42);
            NasBench201StrategyResult b = NasBench201Benchmark.Run(t, protocol, entrant, 8, 42, maxThreads: 1);
            Assert.Equal(a.Picks.Select(p => p.Index), b.Picks.Select(p => p.Index));
            foreach (NasBench201Pick p in a.Picks)
            {
                int[] sample = NasBench201Space.ParseArchString(p.Arch);
                Assert.Equal(t.Value("cifar10_test_acc", sample), p.TestAccuracy);
                Assert.Equal(t.Value("cifar10_valid_acc_12ep", sample) / 100, p.Reward, 12);
                // The last query starts below 12,000 s; one query costs at most 12 × 17.3 s.
                Assert.InRange(p.SimulatedSeconds, 12000, 12000 + 12 * 17.31);
                Assert.InRange(p.Queries, 50, 200);
            }
            Assert.InRange(a.TestAccuracyMean, 92.5, 94.38);
            Assert.Equal(a.TestAccuracyMean, a.Picks.Average(p => p.TestAccuracy), 9);
            Assert.Equal(24, a.Curve.Count);
            Assert.Equal(12000, a.Curve[^1].Seconds, 6);
        }
    }

    [SkippableFact]
    public void Benchmark_QueryBudget_StopsEachRunAtThatManyQueries()
    {
        NasBench201Table t = Table();
        var protocol = new NasBench201Protocol { Budget = new DiscreteBudget(MaxQueries: 25) };
        NasBench201StrategyResult r = NasBench201Benchmark.Run(t, protocol, NasBench201Benchmark.Entrants("random")[0], 4, 1);
        Assert.All(r.Picks, p => Assert.Equal(25, p.Queries));
    }
}
