using System.Text.Json.Nodes;
using SharpNas.Search.Strategies.Discrete;

namespace SharpNas.Search.Benchmarks;

/// <summary>
/// What a NAS-Bench-201 search sees and what is reported. Defaults are the NAS-Bench-201 paper's protocol (Dong &amp;
/// Yang 2020): the reward of a cell is its 12-epoch CIFAR-10 validation accuracy, a query costs 12 epochs of its
/// measured training time, a search stops at 12,000 simulated seconds, and the reported number is the 200-epoch
/// CIFAR-10 test accuracy of the cell with the best reward seen.
/// </summary>
public sealed record NasBench201Protocol
{
    /// <summary>Column rewarded (in %, divided by 100 for the reward).</summary>
    public string RewardColumn { get; init; } = "cifar10_valid_acc_12ep";
    /// <summary>Column reported for the picked cell.</summary>
    public string TestColumn { get; init; } = "cifar10_test_acc";
    /// <summary>200-epoch validation column, reported alongside.</summary>
    public string ValidColumn { get; init; } = "cifar10_valid_acc";
    /// <summary>Seconds per training epoch.</summary>
    public string TimeColumn { get; init; } = "cifar10valid_train_time_per_epoch_s";
    /// <summary>Epochs a query is charged for.</summary>
    public double EpochsPerQuery { get; init; } = 12;
    /// <summary>When a search stops (default 12,000 simulated seconds).</summary>
    public DiscreteBudget Budget { get; init; } = new(MaxCost: 12000);

    /// <summary>Throws naming a column the table lacks or a bad budget.</summary>
    public void Validate(NasBench201Table table)
    {
        foreach (string c in new[] { RewardColumn, TestColumn, ValidColumn, TimeColumn }) _ = table.Column(c);
        if (!(EpochsPerQuery >= 0)) throw new ArgumentOutOfRangeException(nameof(EpochsPerQuery), $"NAS-Bench-201 protocol: epochs per query must be ≥ 0, found {EpochsPerQuery}");
        Budget.Validate();
    }
}

/// <summary>Answers a NAS-Bench-201 sample from the table: reward = reward column / 100, cost = epochs × seconds per
/// epoch; the metrics hold the benchmark index, cell string and reported accuracies.</summary>
public sealed class NasBench201Evaluator(NasBench201Table table, NasBench201Protocol protocol) : IDiscreteEvaluator
{
    /// <summary>The table.</summary>
    public NasBench201Table Table => table;

    /// <inheritdoc/>
    public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel) =>
        new(Reward(sample), Cost(sample), new JsonObject
        {
            ["index"] = table.Index(sample), ["arch"] = table.Arch(sample),
            ["test_acc"] = table.Value(protocol.TestColumn, sample), ["valid_acc"] = table.Value(protocol.ValidColumn, sample),
        });

    /// <summary>The reward of a sample (a fraction).</summary>
    public double Reward(ReadOnlySpan<int> sample) => table.Value(protocol.RewardColumn, sample) / 100.0;

    /// <summary>The simulated seconds a query of the sample costs.</summary>
    public double Cost(ReadOnlySpan<int> sample) => protocol.EpochsPerQuery * table.Value(protocol.TimeColumn, sample);
}
