using System.Globalization;
using SharpNas.Search.Ensembles;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Strategies.StageWise;

/// <summary>A complete stage-wise run: the search, uniform-depth baselines of similar size, optionally the best
/// candidate trained longer, and the candidates' ensemble, gathered into a <see cref="StageWiseReport"/>.
/// <para>The baselines and the final training depend on the candidates only, not on each other: with a
/// <see cref="ITrialBatchRunner.Parallel"/> runner they are handed over as one batch that workers train together (the
/// search's own networks depend on each other's stage scores and stay one at a time).</para></summary>
public sealed class StageWiseRun(StageWiseOptions options, ITrialBatchRunner runner)
{
    /// <summary>A run training its networks one by one with <paramref name="runner"/> in <paramref name="runDir"/>.</summary>
    public StageWiseRun(StageWiseOptions options, TrialRunner runner, string runDir) : this(options, new SequentialTrials(runner, runDir)) { }

    /// <summary>Train a uniform [d, d, …] network for every distinct total depth among the candidates.</summary>
    public bool Baselines { get; init; } = true;
    /// <summary>Epochs for the best candidate's final training (0 = none).</summary>
    public int FinalEpochs { get; init; }

    /// <summary>Decisions and phases, for people.</summary>
    public event Action<string>? Log;

    /// <summary>Runs (or resumes) everything; <paramref name="testLabels"/> and <paramref name="classes"/> let it score the ensemble.</summary>
    public StageWiseReport Run(ReadOnlySpan<int> testLabels, int classes, CancellationToken cancel = default)
    {
        var search = new StageWiseSearch(options, runner);
        search.Log += m => Log?.Invoke(m);
        StageWiseResult result = search.Run(cancel);
        var rows = new List<StageWiseRow>();
        foreach (StageWiseStep c in result.Candidates)
            rows.Add(new StageWiseRow(c.Role == "initial" ? "initial" : $"candidate {c.Iteration}", c.Role, c.Iteration, c.Genotype, c.Metrics));

        var after = new List<(TrialSpec Spec, string Name, int Iteration, string Message)>();
        if (Baselines)
        {
            int stages = options.Initial.Depths.Count;
            var uniform = result.Candidates.Select(c => Math.Max(1, (int)Math.Round(c.Genotype.Depths.Sum() / (double)stages))).Distinct().Order().ToList();
            foreach (int d in uniform)
            {
                StageGenotype g = options.Initial with { Depths = Enumerable.Repeat(d, stages).ToArray() };
                after.Add((new TrialSpec($"baseline/d{d}", "baseline", g, options.Epochs), $"uniform {d}×{stages}", 0, $"baseline: uniform depth {d} per stage"));
            }
        }

        if (FinalEpochs > 0)
        {
            StageWiseStep best = result.Candidates.MaxBy(c => c.Metrics.ValidationAccuracy ?? c.Metrics.TestAccuracy ?? 0)!;
            after.Add((new TrialSpec("final", "final", best.Genotype, FinalEpochs, TransferFrom: options.TransferFrom), "final", best.Iteration,
                $"final: training the best candidate [{string.Join(", ", best.Genotype.Depths)}] for {FinalEpochs} epochs"));
        }

        if (runner.Parallel)
        {
            foreach (var a in after) Log?.Invoke(a.Message);
            IReadOnlyList<TrialMetrics?> metrics = runner.RunMany(after.Select(a => a.Spec).ToList(), cancel);
            for (int i = 0; i < after.Count; i++) Add(after[i], metrics[i]);
        }
        else
            foreach (var a in after)
            {
                Log?.Invoke(a.Message);
                Add(a, runner.RunMany([a.Spec], cancel)[0]);
            }

        void Add((TrialSpec Spec, string Name, int Iteration, string Message) a, TrialMetrics? m)
        {
            if (m is null) Log?.Invoke($"{a.Name}: trial {a.Spec.Key} failed ({runner.Store.Find(a.Spec.Key)?.Error}); left out of the report");
            else rows.Add(new StageWiseRow(a.Name, a.Spec.Role, a.Iteration, (StageGenotype)a.Spec.Architecture, m));
        }

        (double? ensemble, long ensembleParams) = Ensemble(result, testLabels, classes);
        return new StageWiseReport(rows, options.Iterations, runner.Evaluated, result.Converged, ensemble, ensembleParams, result.Steps);
    }

    private (double?, long) Ensemble(StageWiseResult result, ReadOnlySpan<int> labels, int classes)
    {
        var members = new List<float[]>();
        var seen = new HashSet<string>();
        long parameters = 0;
        foreach (StageWiseStep c in result.Candidates.Where(c => c.Role == "candidate"))
        {
            Trial? trial = runner.Store.Find(c.Iteration == 0 ? "initial" : $"iter{c.Iteration.ToString(CultureInfo.InvariantCulture)}/candidate");
            string? file = trial?.ArtifactDir is null ? null : Path.Combine(runner.ArtifactPath(trial), TrainingEvaluator.TestProbabilitiesFile);
            if (file is null || !File.Exists(file)) return (null, 0);
            // A candidate equal to an earlier one (no stage grew) is the same trained network: it joins the ensemble once.
            if (!seen.Add(c.Genotype.ToJson().ToJsonString())) continue;
            members.Add(SoftmaxEnsemble.Load(file));
            parameters += c.Metrics.Parameters;
        }
        return members.Count == 0 || labels.Length == 0 ? (null, 0) : (SoftmaxEnsemble.Accuracy(members, labels, classes), parameters);
    }
}
