using System.CommandLine;
using System.Text.Json.Nodes;
using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary>The early-stopping options of the searches that allow it (NASNet, EPNAS): <c>--prune none|median|asha</c> and
/// the settings of each pruner. Off by default.</summary>
internal sealed class SearchPruneOptions
{
    public Option<string> Prune { get; } = new("--prune") { Description = "stop weak children early: none, median or asha", DefaultValueFactory = _ => "none" };
    public Option<int> Warmup { get; } = new("--prune-warmup") { Description = "median: epochs before any child is stopped", DefaultValueFactory = _ => 1 };
    public Option<int> MinTrials { get; } = new("--prune-min-trials") { Description = "median: completed children needed before stopping any", DefaultValueFactory = _ => 3 };
    public Option<int> AshaEta { get; } = new("--asha-eta") { Description = "asha: reduction factor η (the best 1/η of a rung go on)", DefaultValueFactory = _ => 3 };
    public Option<int> AshaMinEpochs { get; } = new("--asha-min-epochs") { Description = "asha: epochs of the first rung (rungs at r·η^k)", DefaultValueFactory = _ => 1 };
    public Option<int?> AshaRungs { get; } = new("--asha-rungs") { Description = "asha: at most this many rungs (default: all below the last epoch)" };

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Prune, Warmup, MinTrials, AshaEta, AshaMinEpochs, AshaRungs }) command.Options.Add(o);
    }

    /// <summary>The pruner the options ask for, or null for <c>none</c>; a bad value is an <see cref="ArgumentException"/> naming the option.</summary>
    public IPruner? Create(ParseResult p) => p.GetValue(Prune)!.Trim().ToLowerInvariant() switch
    {
        "none" => null,
        "median" => new MedianPruner(new MedianPrunerOptions { WarmupEpochs = p.GetValue(Warmup), MinCompletedTrials = p.GetValue(MinTrials) }),
        "asha" => new AshaPruner(new AshaOptions { ReductionFactor = p.GetValue(AshaEta), MinEpochs = p.GetValue(AshaMinEpochs), MaxRungs = p.GetValue(AshaRungs) }),
        var s => throw new ArgumentException($"--prune {s}: expected none, median or asha"),
    };

    /// <summary>The pruning of a search over <paramref name="store"/> with <paramref name="pruner"/> (without one, its
    /// trials still report their epochs to the store). The pruner is recorded in the search row (setting
    /// <c>prune</c>), so that the search's workers prune as this process does. Pruning judges children by their
    /// validation accuracy, so it needs validation images.</summary>
    public static TrialPruning Attach(IPruner? pruner, ITrialStore store, TrainingData data)
    {
        if (pruner is not null && data.Validation is not { Count: > 0 }) throw new ArgumentException($"--prune {pruner.Name} needs validation images: --val-size must be above 0");
        if (store.FindSearch(store.SearchId) is SearchRecord row)
        {
            JsonObject settings = row.Settings.DeepClone().AsObject();
            settings[Pruners.SettingName] = Pruners.ToJson(pruner);
            store.SaveSearch(row.Kind, settings, row.Status);
        }
        return new TrialPruning(pruner, store);
    }

    /// <summary>The total of epochs the trials trained (a pruned trial counts the epochs it reached).</summary>
    public static int EpochsTrained(IEnumerable<Trial> trials) =>
        trials.Where(t => t.Metrics is not null).Sum(t => t.Metrics!["epochs_reached"]?.GetValue<int>() ?? t.Metrics!["epochs"]?.GetValue<int>() ?? 0);
}
