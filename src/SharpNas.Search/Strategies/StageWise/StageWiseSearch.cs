using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Strategies.StageWise;

/// <summary>The constants of Algorithm 1 (defaults: growth 2 for residual modules, 1 for cells, 5 iterations).</summary>
public sealed record StageWiseOptions
{
    /// <summary>The paper's growth step g for a module kind: 2 residual blocks (basic or bottleneck), 1 cell.</summary>
    public static int DefaultGrowth(StageModule module) => module == StageModule.Cell ? 1 : 2;

    /// <summary>The initial network (its module kind, per-stage depths and width).</summary>
    public required StageGenotype Initial { get; init; }
    /// <summary>Modules added to a stage when it grows (g); null = <see cref="DefaultGrowth"/> of the initial network's module kind.</summary>
    public int? Growth { get; init; }
    /// <summary>The growth step in effect.</summary>
    public int GrowthStep => Growth ?? DefaultGrowth(Initial.Module);
    /// <summary>Iterations of grow-and-retrain.</summary>
    public int Iterations { get; init; } = 5;
    /// <summary>Stop at the first iteration in which no stage grows (the authors' code carries on).</summary>
    public bool StopOnConvergence { get; init; }
    /// <summary>Training epochs of every trained network.</summary>
    public int Epochs { get; init; } = 10;
    /// <summary>A deeper pre-trained network of the same module kind whose blocks initialise every network, or null.</summary>
    public string? TransferFrom { get; init; }

    /// <summary>Checks the values; errors name the option.</summary>
    public void Validate()
    {
        Initial.Validated("initial network");
        if (GrowthStep < 1) throw new ArgumentException($"--growth must be at least 1, got {Growth}");
        if (Iterations < 0) throw new ArgumentException($"--iterations must be non-negative, got {Iterations}");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
    }
}

/// <summary>One trained network of the search.</summary>
public sealed record StageWiseStep(int Iteration, string Role, StageGenotype Genotype, TrialMetrics Metrics);

/// <summary>The outcome: every trained network in order, and the candidates (iteration 0 = the initial network).</summary>
public sealed record StageWiseResult(IReadOnlyList<StageWiseStep> Steps, int TrainedThisRun, bool Converged)
{
    /// <summary>The initial network and the candidate of every iteration.</summary>
    public IEnumerable<StageWiseStep> Candidates => Steps.Where(s => s.Role is "initial" or "candidate");
}

/// <summary>
/// Stage-wise NAS, Algorithm 1 as the authors' code runs it: train the initial network and score its stages; then
/// each iteration trains a temporary network with g more modules in <b>every</b> stage, grows exactly the stages
/// whose temporary score beats the current one, and trains and scores the new candidate, whose scores become the
/// current ones. Models trained: 1 + 2 × iterations (fewer with <see cref="StageWiseOptions.StopOnConvergence"/>).
/// Every network is a durable trial, so an interrupted search resumes where it stopped.
/// </summary>
public sealed class StageWiseSearch(StageWiseOptions options, ITrialBatchRunner runner)
{
    /// <summary>The search training its networks one by one with <paramref name="runner"/>.</summary>
    public StageWiseSearch(StageWiseOptions options, TrialRunner runner) : this(options, new SequentialTrials(runner)) { }

    /// <summary>Human-readable events (iteration decisions).</summary>
    public event Action<string>? Log;

    /// <summary>Runs (or resumes) the search.</summary>
    public StageWiseResult Run(CancellationToken cancel = default)
    {
        options.Validate();
        var steps = new List<StageWiseStep>();
        StageGenotype current = options.Initial;
        TrialMetrics currentMetrics = Train("initial", "initial", 0, current, steps, cancel);
        bool converged = false;
        for (int it = 1; it <= options.Iterations; it++)
        {
            StageGenotype temporary = current with { Depths = current.Depths.Select(d => d + options.GrowthStep).ToArray() };
            TrialMetrics tempMetrics = Train($"iter{it}/temporary", "temporary", it, temporary, steps, cancel);
            IReadOnlyList<double> now = Scores(currentMetrics), next = Scores(tempMetrics);
            bool[] grow = now.Select((s, i) => next[i] > s).ToArray();
            Log?.Invoke($"iteration {it}: stage scores current [{Format(now)}], temporary [{Format(next)}] → "
                + (grow.Any(g => g) ? "grow stage(s) " + string.Join(", ", grow.Select((g, i) => g ? (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) : null).OfType<string>()) : "no stage grows"));
            if (!grow.Any(g => g))
            {
                converged = true;
                if (options.StopOnConvergence) { Log?.Invoke("converged: stopping (--stop-on-convergence)"); break; }
            }
            current = current with { Depths = current.Depths.Select((d, i) => grow[i] ? d + options.GrowthStep : d).ToArray() };
            currentMetrics = Train($"iter{it}/candidate", "candidate", it, current, steps, cancel);
        }
        return new StageWiseResult(steps, runner.Evaluated, converged);
    }

    private TrialMetrics Train(string key, string role, int iteration, StageGenotype genotype, List<StageWiseStep> steps, CancellationToken cancel)
    {
        // Each network depends on the previous one's stage scores: a batch of one, even when workers share the trials.
        TrialMetrics m = runner.RunMany([new TrialSpec(key, role, genotype, options.Epochs, ScoreStages: true, options.TransferFrom)], cancel)[0]
            ?? throw new InvalidOperationException($"trial {key} failed: {runner.Store.Find(key)?.Error}; the search cannot go on without its stage scores");
        if (m.StageScores is null || m.StageScores.Count != genotype.Depths.Count)
            throw new InvalidOperationException($"trial {key}: the evaluator returned {m.StageScores?.Count ?? 0} stage scores for {genotype.Depths.Count} stages");
        steps.Add(new StageWiseStep(iteration, role, genotype, m));
        return m;
    }

    private static IReadOnlyList<double> Scores(TrialMetrics m) => m.StageScores!;

    private static string Format(IReadOnlyList<double> s) => string.Join(", ", s.Select(v => v.ToString("F4", System.Globalization.CultureInfo.InvariantCulture)));
}
