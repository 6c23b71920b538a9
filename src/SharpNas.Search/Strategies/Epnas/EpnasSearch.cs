using System.Globalization;
using SharpNas.Engine;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>Who chooses the actions.</summary>
public enum EpnasStrategy
{
    /// <summary>The REINFORCE policy (EPNAS).</summary>
    Epnas,
    /// <summary>Uniformly random valid actions from the same seed networks (the baseline of paper Fig. 4).</summary>
    Random,
}

/// <summary>The constants of an EPNAS search (paper §3.1, §4; defaults as the paper ran CIFAR-10 layer-by-layer search).</summary>
public sealed record EpnasSearchOptions<TG> where TG : class, IEpnasGenotype
{
    /// <summary>The networks episodes start from (branch b of the first episode starts from seed b mod count).</summary>
    public required IReadOnlyList<TG> Seeds { get; init; }
    /// <summary>The problem the children are built for (cost model, pooling validity).</summary>
    public required InputSpec Input { get; init; }
    /// <summary>E: episodes.</summary>
    public int Episodes { get; init; } = 15;
    /// <summary>T: steps per episode (paper: 10 layer-by-layer, 5 module).</summary>
    public int Steps { get; init; } = 10;
    /// <summary>B: branches (paper: 8).</summary>
    public int Branches { get; init; } = 8;
    /// <summary>The best k children of an episode seed the next one.</summary>
    public int TopK { get; init; } = 8;
    /// <summary>Training epochs of each child.</summary>
    public int ChildEpochs { get; init; } = 20;
    /// <summary>The resource constraints and base penalty.</summary>
    public EpnasConstraints Constraints { get; init; } = new();
    /// <summary>The REINFORCE policy or random actions.</summary>
    public EpnasStrategy Strategy { get; init; } = EpnasStrategy.Epnas;
    /// <summary>With <see cref="EpnasStrategy.Random"/>: whether the top-k seeding applies too (false: every episode restarts
    /// from <see cref="Seeds"/>, a pure random walk from the seeds).</summary>
    public bool RandomKeepsTopK { get; init; }
    /// <summary>The policy's sizes and training settings.</summary>
    public EpnasPolicyOptions Policy { get; init; } = new();
    /// <summary>The run's seed; every random stream derives from it.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Checks the values; errors name the option.</summary>
    public void Validate()
    {
        if (Seeds is null || Seeds.Count == 0) throw new ArgumentException("EPNAS: at least one seed network is needed");
        foreach (TG s in Seeds)
            if (!s.IsValidFor(Input)) throw new ArgumentException($"EPNAS: the seed network {s.Describe()} is not valid for input {Input}");
        if (Episodes < 1) throw new ArgumentException($"--episodes must be at least 1, got {Episodes}");
        if (Steps < 1) throw new ArgumentException($"--steps must be at least 1, got {Steps}");
        if (Branches < 1) throw new ArgumentException($"--branches must be at least 1, got {Branches}");
        if (TopK < 1) throw new ArgumentException($"--top-k must be at least 1, got {TopK}");
        if (ChildEpochs < 1) throw new ArgumentException($"--child-epochs must be at least 1, got {ChildEpochs}");
        Constraints.Validated();
    }
}

/// <summary>One evaluated child.</summary>
public sealed record EpnasChild<TG>(int Episode, int Branch, int Step, string Key, TG Genotype, EpnasAction Action, TrialMetrics Metrics,
    EpnasResources Resources, double Reward, IReadOnlyList<ConstraintUsage> Constraints) where TG : class, IEpnasGenotype
{
    /// <summary>Validation accuracy (0 when the evaluator gave none).</summary>
    public double Accuracy => Metrics.ValidationAccuracy ?? 0;
    /// <summary>True when every constraint holds.</summary>
    public bool SatisfiesConstraints => Constraints.All(c => c.Satisfied);
}

/// <summary>How the final list of a search is ordered.</summary>
public enum EpnasRanking
{
    /// <summary>By reward alone, as the paper ranks (a child just over a bound may outrank satisfying ones).</summary>
    Reward,
    /// <summary>Children that satisfy every constraint first, then the violators; by reward within each group. The soft
    /// reward still steers the search and picks each episode's seeds; only the final list changes.</summary>
    FeasibleFirst,
}

/// <summary>The outcome of a search: every child in order, and how many were evaluated by this process.</summary>
public sealed record EpnasSearchResult<TG>(IReadOnlyList<EpnasChild<TG>> Children, int TrainedThisRun) where TG : class, IEpnasGenotype
{
    /// <summary>The best <paramref name="k"/> distinct genotypes in the order of <paramref name="ranking"/> (ties: higher
    /// accuracy, then earlier).</summary>
    public IReadOnlyList<EpnasChild<TG>> Top(int k, EpnasRanking ranking = EpnasRanking.Reward) => Children
        .GroupBy(c => c.Genotype.ToJson().ToJsonString())
        .Select(g => g.First())
        .OrderByDescending(c => ranking == EpnasRanking.FeasibleFirst && c.SatisfiesConstraints)
        .ThenByDescending(c => c.Reward).ThenByDescending(c => c.Accuracy)
        .Take(k).ToList();
}

/// <summary>
/// The EPNAS search loop (paper §3.1, Fig. 1): E episodes; in each, B branches start from a parent network and take T
/// steps, each step transforming the branch's current network by one action (scale, then insert/remove/keep) and
/// evaluating the child as a durable trial keyed <c>ep{e}/step{t}/branch{b}</c>. The reward of each child is
/// accuracy × Π p^V; after an episode the policy takes one REINFORCE step on all its (action, reward) pairs, and the
/// episode's top-k children (by reward) become the parents of the next episode's branches.
/// <para>Parallel evaluation: a child depends on its branch's previous child, never on a result of its step, so when the
/// trial runner is <see cref="ITrialBatchRunner.Parallel"/> (a <see cref="LeasedTrialRunner"/>) the B children of a
/// step are handed over as one batch, which <c>sharpnas worker</c> processes evaluate together; the children, their
/// keys and the policy's updates are those of the sequential search.</para>
/// <para>Resuming: every random stream is derived from the seed and the (episode, step, branch) position and the policy
/// update is deterministic, so running the same search again replays the same actions; completed children are answered
/// by the trial store without training, and the policy reaches the same state.</para>
/// </summary>
public sealed class EpnasSearch<TG>(EpnasSearchOptions<TG> options, IEpnasActionSpace<TG> space, ITrialBatchRunner runner) where TG : class, IEpnasGenotype
{
    /// <summary>The search evaluating its children one by one with <paramref name="runner"/>.</summary>
    public EpnasSearch(EpnasSearchOptions<TG> options, IEpnasActionSpace<TG> space, TrialRunner runner)
        : this(options, space, new SequentialTrials(runner)) { }

    /// <summary>Trial role of the children.</summary>
    public const string Role = "child";

    /// <summary>Draws of one child's action before a child beyond <see cref="EpnasConstraints.MaxViolation"/> is kept anyway.</summary>
    public const int MaxDraws = 100;

    /// <summary>Called before each child is evaluated (or recalled): episode, step, branch (0-based) and the child.</summary>
    public event Action<int, int, int, TG>? ChildStarting;

    /// <summary>Called after each child is evaluated (or recalled).</summary>
    public event Action<EpnasChild<TG>>? ChildFinished;

    /// <summary>Parameter sharing (paper §3.4), or null to train every child from its own initialisation. The search
    /// remembers each child's trained weights and ends the sharing step after every step; the evaluator asks
    /// <see cref="EpnasParameterSharing{TG}.InitialWeights"/> for a child's starting weights.</summary>
    public EpnasParameterSharing<TG>? Sharing { get; init; }

    /// <summary>Human-readable events (episode summaries).</summary>
    public event Action<string>? Log;

    /// <summary>Runs (or resumes) the search.</summary>
    public EpnasSearchResult<TG> Run(CancellationToken cancel = default)
    {
        options.Validate();
        var root = new SeededRandom(options.Seed);
        var policy = new EpnasPolicy<TG>(space, root.Derive("policy-init"), options.Policy);
        var trainer = new EpnasReinforce<TG>(policy);
        var children = new List<EpnasChild<TG>>();
        TG[] parents = Enumerable.Range(0, options.Branches).Select(b => options.Seeds[b % options.Seeds.Count]).ToArray();
        for (int e = 0; e < options.Episodes; e++)
        {
            TG[] current = (TG[])parents.Clone();
            var samples = new List<(EpnasTrajectory<TG>, double)>();
            var episode = new List<EpnasChild<TG>>();
            for (int t = 0; t < options.Steps; t++)
            {
                var step = new List<(int Branch, string Key, TG Child, EpnasAction Action, EpnasTrajectory<TG>? Trajectory)>();
                for (int b = 0; b < options.Branches; b++)
                {
                    cancel.ThrowIfCancellationRequested();
                    SeededRandom rng = root.Derive("action", ((long)e * options.Steps + t) * options.Branches + b);
                    EpnasTrajectory<TG>? trajectory = null;
                    TG child;
                    EpnasAction action;
                    // Beyond the exploration limit a child is drawn again from the same stream (so a resumed run redraws
                    // the same children); after MaxDraws draws the last one is kept.
                    for (int draw = 1; ; draw++)
                    {
                        if (options.Strategy == EpnasStrategy.Epnas)
                        {
                            trajectory = policy.Sample(current[b], rng);
                            (child, action) = (trajectory.Child, trajectory.Action);
                        }
                        else (child, action) = EpnasRandomActions.Sample(space, current[b], rng);
                        if (draw == MaxDraws || options.Constraints.WithinExplorationLimit(child.Resources(options.Input))) break;
                    }
                    string key = string.Create(CultureInfo.InvariantCulture, $"ep{e}/step{t}/branch{b}");
                    step.Add((b, key, child, action, trajectory));
                    if (!runner.Parallel) Evaluate(step.Count - 1);
                }
                if (runner.Parallel)
                {
                    foreach (var s in step) ChildStarting?.Invoke(e, t, s.Branch, s.Child);
                    IReadOnlyList<TrialMetrics?> results = runner.RunMany(step.Select(s => new TrialSpec(s.Key, Role, s.Child, options.ChildEpochs)).ToList(), cancel);
                    for (int i = 0; i < step.Count; i++) Finish(i, results[i]);
                }
                Sharing?.EndStep();

                void Evaluate(int i)
                {
                    ChildStarting?.Invoke(e, t, step[i].Branch, step[i].Child);
                    Finish(i, runner.RunMany([new TrialSpec(step[i].Key, Role, step[i].Child, options.ChildEpochs)], cancel)[0]);
                }

                void Finish(int i, TrialMetrics? result)
                {
                    (int b, string key, TG child, EpnasAction action, EpnasTrajectory<TG>? trajectory) = step[i];
                    // A child whose trial failed for good (every attempt of its workers) counts with accuracy 0.
                    if (result is null) Log?.Invoke($"child {key} failed: {runner.Store.Find(key)?.Error}; it counts with accuracy 0");
                    TrialMetrics m = result ?? new TrialMetrics();
                    EpnasResources r = child.Resources(options.Input);
                    double accuracy = m.ValidationAccuracy ?? 0;
                    Sharing?.Remember(key, child, accuracy);
                    var c = new EpnasChild<TG>(e, b, t, key, child, action, m, r, options.Constraints.Reward(accuracy, r), options.Constraints.Evaluate(r));
                    episode.Add(c);
                    if (trajectory is not null) samples.Add((trajectory, c.Reward));
                    ChildFinished?.Invoke(c);
                    current[b] = child;
                }
            }
            children.AddRange(episode);
            if (samples.Count > 0) trainer.Update(samples);
            if (options.Strategy == EpnasStrategy.Epnas || options.RandomKeepsTopK)
            {
                IReadOnlyList<EpnasChild<TG>> top = new EpnasSearchResult<TG>(episode, 0).Top(options.TopK);
                for (int b = 0; b < parents.Length; b++) parents[b] = top[b % top.Count].Genotype;
            }
            EpnasChild<TG> best = episode.MaxBy(c => c.Reward)!;
            Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"episode {e + 1}/{options.Episodes}: mean reward {episode.Average(c => c.Reward):F4}, best {best.Reward:F4} ({best.Key}: {best.Genotype.Describe()})"));
        }
        return new EpnasSearchResult<TG>(children, runner.Evaluated);
    }
}

/// <summary>Random actions: every decision drawn uniformly among its valid choices (the random-search baseline).</summary>
public static class EpnasRandomActions
{
    /// <summary>A uniformly random valid action on <paramref name="parent"/> and the child it makes.</summary>
    public static (TG Child, EpnasAction Action) Sample<TG>(IEpnasActionSpace<TG> space, TG parent, SeededRandom rng) where TG : class, Training.IArchitecture
    {
        IReadOnlyList<int[]> groups = space.Groups(parent);
        int[] channel = groups.Select(g => Pick(space.ScaleMask(parent, g, true), rng)).ToArray();
        int[] width = groups.Select(g => Pick(space.ScaleMask(parent, g, false), rng)).ToArray();
        TG scaled = space.Scale(parent, channel, width);
        var d = new List<int>();
        while (space.NextInsert(scaled, d) is { } r) d.Add(Pick(r.Mask, rng));
        return (space.Insert(scaled, d), new EpnasAction(channel, width, d));
    }

    private static int Pick(bool[] mask, SeededRandom rng)
    {
        int[] valid = Enumerable.Range(0, mask.Length).Where(i => mask[i]).ToArray();
        return valid[rng.NextInt(valid.Length)];
    }
}
