using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Search.Pruning;

/// <summary>Runs scripted learning curves one trial after the other through a pruner, as a sequential search would:
/// trial i is judged after each epoch against the finished trials before it (pruned ones with their curve cut where
/// they stopped). Returns the epochs each trial reached.</summary>
internal static class ScriptedSearch
{
    public static int[] EpochsReached(IPruner pruner, params double[][] curves)
    {
        var finished = new List<LearningCurve>();
        var reached = new int[curves.Length];
        for (int i = 0; i < curves.Length; i++)
        {
            int total = curves[i].Length, e = 1;
            while (e < total && !pruner.Decide(curves[i][..e], total, finished).Prune) e++;
            reached[i] = e;
            finished.Add(new LearningCurve($"t{i}", curves[i][..e], e == total ? TrialStatus.Completed : TrialStatus.Pruned));
        }
        return reached;
    }
}
