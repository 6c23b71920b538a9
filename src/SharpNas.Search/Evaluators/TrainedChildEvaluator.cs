using System.Text.Json.Nodes;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces;
using SharpNas.Search.Strategies.Discrete;
using SharpNas.Training;

namespace SharpNas.Search.Evaluators;

/// <summary>
/// Evaluates a sample of a discrete space by building its architecture and training it with an <see cref="IEvaluator"/>
/// in <c>RUN/trials/&lt;sample key&gt;</c>: reward = validation accuracy (test accuracy if there is no validation set),
/// cost = training seconds; the trial metrics are stored with the sample. A child stopped by a pruner counts with its
/// partial validation accuracy as reward and is stored as pruned.
/// </summary>
public sealed class TrainedChildEvaluator(IDiscreteSpace space, Func<int[], IArchitecture> build, IEvaluator evaluator, string runDir, int epochs)
    : IDiscreteEvaluator
{
    /// <summary>Called when a child starts training.</summary>
    public event Action<string, IArchitecture>? Started;

    /// <inheritdoc/>
    public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel) => Evaluate(sample, null, cancel);

    /// <inheritdoc/>
    public DiscreteEvaluation Evaluate(int[] sample, string? trialKey, CancellationToken cancel)
    {
        IArchitecture architecture = build(sample);
        string key = space.Key(sample);
        Started?.Invoke(key, architecture);
        TrialMetrics m;
        try { m = evaluator.Evaluate(new TrialRequest(key, "sample", architecture, Path.Combine(runDir, "trials", key), epochs) { StoreKey = trialKey }, cancel); }
        catch (TrialPrunedException p) { m = p.Metrics; }   // a result with its partial accuracy
        JsonObject metrics = m.ToJson();
        metrics["architecture"] = architecture.ToJson();
        return new DiscreteEvaluation(m.ValidationAccuracy ?? m.TestAccuracy ?? 0, m.TrainSeconds, metrics, m.Pruned);
    }
}
