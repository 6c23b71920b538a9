using System.Globalization;
using SharpNas.Search.Ensembles;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Search.Trials;

namespace SharpNas.Search.Strategies.StageWise;

/// <summary>A complete stage-wise run: the search, uniform-depth baselines of similar size, optionally the best
/// candidate trained longer, and the candidates' ensemble, gathered into a <see cref="StageWiseReport"/>.</summary>
public sealed class StageWiseRun(StageWiseOptions options, TrialRunner runner, string runDir)
{
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

        if (Baselines)
        {
            int stages = options.Initial.Depths.Count;
            var uniform = result.Candidates.Select(c => Math.Max(1, (int)Math.Round(c.Genotype.Depths.Sum() / (double)stages))).Distinct().Order().ToList();
            foreach (int d in uniform)
            {
                StageGenotype g = options.Initial with { Depths = Enumerable.Repeat(d, stages).ToArray() };
                Log?.Invoke($"baseline: uniform depth {d} per stage");
                TrialMetrics m = runner.Run($"baseline/d{d}", "baseline", g, options.Epochs, cancel: cancel);
                rows.Add(new StageWiseRow($"uniform {d}×{stages}", "baseline", 0, g, m));
            }
        }

        if (FinalEpochs > 0)
        {
            StageWiseStep best = result.Candidates.MaxBy(c => c.Metrics.ValidationAccuracy ?? c.Metrics.TestAccuracy ?? 0)!;
            Log?.Invoke($"final: training the best candidate [{string.Join(", ", best.Genotype.Depths)}] for {FinalEpochs} epochs");
            TrialMetrics m = runner.Run("final", "final", best.Genotype, FinalEpochs, transferFrom: options.TransferFrom, cancel: cancel);
            rows.Add(new StageWiseRow("final", "final", best.Iteration, best.Genotype, m));
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
            string? dir = runner.Store.Find(c.Iteration == 0 ? "initial" : $"iter{c.Iteration.ToString(CultureInfo.InvariantCulture)}/candidate")?.ArtifactDir;
            string? file = dir is null ? null : Path.Combine(runDir, dir, TrainingEvaluator.TestProbabilitiesFile);
            if (file is null || !File.Exists(file)) return (null, 0);
            // A candidate equal to an earlier one (no stage grew) shares its trained network: it joins the ensemble once.
            if (!seen.Add(Path.GetFullPath(file))) continue;
            members.Add(SoftmaxEnsemble.Load(file));
            parameters += c.Metrics.Parameters;
        }
        return members.Count == 0 || labels.Length == 0 ? (null, 0) : (SoftmaxEnsemble.Accuracy(members, labels, classes), parameters);
    }
}
