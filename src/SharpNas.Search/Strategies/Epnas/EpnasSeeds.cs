using SharpNas.Engine;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>Seed networks for a search. The paper starts "from a randomly generated architecture"; SharpNas grows
/// one by random valid insertions from a minimal network.</summary>
public static class EpnasSeeds
{
    /// <summary>The minimal layer-by-layer network: one 3×3 conv with 32 channels and ReLU.</summary>
    public static EpnasLayerGenotype MinimalLayerNetwork() =>
        new([new EpnasLayer(EpnasLayerType.Conv2d, 3, 2, 32, EpnasActivation.Relu, 0)]);

    /// <summary>The minimal cell: one propagating 3×3 conv branch with 16 channels.</summary>
    public static EpnasModuleGenotype MinimalCell(int cellsPerStage = 2, int stages = 3, int filters = 16) =>
        new([new EpnasBranch(EpnasBranchType.ConvNone, 3, 3, 16, 0, -1, true)], cellsPerStage, stages, filters);

    /// <summary><paramref name="start"/> grown by <paramref name="insertions"/> uniformly random valid insertions (fewer
    /// when the space is full); every other decision of an insertion is uniform among its valid choices.</summary>
    public static TG Random<TG>(IEpnasActionSpace<TG> space, TG start, int insertions, SeededRandom rng) where TG : class, IArchitecture
    {
        TG g = start;
        for (int i = 0; i < insertions; i++)
        {
            EpnasDecisionRequest first = space.NextInsert(g, [])!;
            if (!first.Mask[EpnasDecisions.Insert]) break;
            var d = new List<int> { EpnasDecisions.Insert };
            while (space.NextInsert(g, d) is { } r)
            {
                int[] valid = Enumerable.Range(0, r.Mask.Length).Where(c => r.Mask[c]).ToArray();
                d.Add(valid[rng.NextInt(valid.Length)]);
            }
            g = space.Insert(g, d);
        }
        return g;
    }
}
