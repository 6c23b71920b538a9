using SharpNas.Engine;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Training;
using static SharpNas.Search.Strategies.Epnas.EpnasDecisions;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>The scale / insert / remove / keep actions of both patterns.</summary>
public sealed class EpnasActionTests
{
    [Fact]
    public void Scale_ChangesEveryConvOfAGroup_AndMasksStepsLeavingTheTable()
    {
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Pool(2, 1), Conv(5, 64, 2), Conv(7, 16, 3)]);
        var actions = new EpnasLayerActions(Small, new EpnasActionOptions { ScaleGroups = 2 });
        IReadOnlyList<int[]> groups = actions.Groups(g);
        Assert.Equal([[0, 1], [2, 3]], groups);
        Assert.Equal([false, true, true], actions.ScaleMask(g, groups[1], channels: true));   // 16 − 1 step leaves the table
        Assert.Equal([true, true, false], actions.ScaleMask(g, groups[1], channels: false));  // 7 + 1 step leaves it
        EpnasLayerGenotype s = actions.Scale(g, [2, 1], [1, 0]);   // group 0: channels +1; group 1: width −1
        Assert.Equal([64, 32, 64, 16], s.Layers.Select(l => l.Channels));
        Assert.Equal([3, 3, 3, 5], s.Layers.Select(l => l.FilterWidth));
        Assert.Throws<InvalidOperationException>(() => actions.Scale(g, [1, 0], [1, 1]));
    }

    [Fact]
    public void InsertConv_SitsAtThePosition_RewiresItsSuccessor_AndAddsTheSkip()
    {
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(3, 64, 1)]);
        var actions = new EpnasLayerActions(Small);
        // insert, conv2d, filter width 5, 16 channels, crelu, position 1, src2 = node 0.
        EpnasLayerGenotype r = actions.Insert(g, [Insert, 0, 2, 0, 1, 1, 1]);
        Assert.Equal(3, r.Layers.Count);
        Assert.Equal(new EpnasLayer(EpnasLayerType.Conv2d, 5, 2, 16, EpnasActivation.CRelu, 1, 0), r.Layers[1]);
        Assert.Equal(2, r.Layers[2].Src1);   // the old layer 1 now reads the inserted layer
        Assert.True(r.IsValidFor(Small));
    }

    [Fact]
    public void InsertPosition_IsLimitedByTheCurrentLayerCount_AndTheInteriorPriorPenalisesAppending()
    {
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(3, 64, 1)]);
        var actions = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6, Prior = CheckTablePrior.Interior });
        EpnasDecisionRequest? pos = actions.NextInsert(g, [Insert, 0, 1, 1, 0]);
        Assert.Equal(EpnasLayerActions.Position, pos!.Kind);
        Assert.Equal([true, true, true, false, false, false], pos.Mask);
        Assert.Equal(-MathF.Log(3), pos.LogPrior![2], 6);
        Assert.Equal(0f, pos.LogPrior[1]);
        var uniform = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6 });
        Assert.Null(uniform.NextInsert(g, [Insert, 0, 1, 1, 0])!.LogPrior);
    }

    [Fact]
    public void AnAddLayer_MustHaveASkip_WhichIsPooledToItsShape()
    {
        var tiny = new InputSpec(3, 2, 2, 2);
        var g = new EpnasLayerGenotype([Pool(2, 0)]);   // 2×2 → 1×1
        var actions = new EpnasLayerActions(tiny);
        EpnasDecisionRequest? src2 = actions.NextInsert(g, [Insert, (int)EpnasLayerType.Add, 1]);
        Assert.Equal(EpnasLayerActions.Src2, src2!.Kind);
        Assert.False(src2.Mask[0]);   // none
        Assert.True(src2.Mask[2]);    // node 1 (same 1×1 shape)
        Assert.True(src2.Mask[1]);    // node 0 is 2×2, pooled by 2 onto the add's 1×1
        Assert.False(src2.Mask[3]);   // beyond the position
    }

    [Fact]
    public void PoolWidth2_AtTheEnd_IsMaskedWhenItWouldEmptyTheMap()
    {
        var tiny = new InputSpec(3, 2, 2, 2);
        var g = new EpnasLayerGenotype([Pool(2, 0)]);   // 2×2 → 1×1; a second width-2 pool after it gives 0×0
        var actions = new EpnasLayerActions(tiny);
        EpnasDecisionRequest? pw = actions.NextInsert(g, [Insert, (int)EpnasLayerType.MaxPool]);
        Assert.Equal([false, true], pw!.Mask);   // at either position two width-2 pools take 2×2 to 0×0
        Assert.Throws<InvalidOperationException>(() => actions.Insert(g, [Insert, (int)EpnasLayerType.MaxPool, 0, 1, 0]));
        EpnasDecisionRequest? pos3 = actions.NextInsert(g, [Insert, (int)EpnasLayerType.MaxPool, 1]);
        Assert.Equal([false, true], pos3!.Mask.Take(2));   // width 3 keeps 1×1 at the end; at the front the old width-2 pool empties it
    }

    [Fact]
    public void Remove_RewiresReadersToTheRemovedLayersSource_AndTheLastLayerCannotBeRemoved()
    {
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Conv(3, 64, 1), Conv(3, 32, 2, src2: 1)]);
        var actions = new EpnasLayerActions(Small);
        EpnasLayerGenotype r = actions.Insert(g, [Remove, 1]);
        Assert.Equal([Conv(3, 32, 0), Conv(3, 32, 1, src2: 1)], r.Layers);
        var one = new EpnasLayerGenotype([Conv(3, 32, 0)]);
        Assert.Equal([true, true, false], actions.NextInsert(one, [])!.Mask);
        Assert.Same(one, actions.Insert(one, [Keep]));
        Assert.Throws<InvalidOperationException>(() => actions.Insert(one, [Remove, 0]));
    }

    [Fact]
    public void ModuleRemove_OfTheOnlyPropagatingBranch_IsMasked_AndReadersAreRewired()
    {
        EpnasModuleGenotype g = HandModule();   // branch 0 (not propagated) feeds branch 1; branch 2 is the identity
        var actions = new EpnasModuleActions();
        EpnasModuleGenotype r = actions.Insert(g, [Remove, 0]);
        Assert.Equal(0, r.Branches[0].Src1);    // branch 1 read state 1 (branch 0), now the cell input
        var single = g with { Branches = [g.Branches[0] with { Propagate = true }, g.Branches[1] with { Propagate = false }] };
        bool[] removable = actions.NextInsert(single, [Remove])!.Mask;
        Assert.False(removable[0]);   // removing branch 0 leaves no propagating branch
        Assert.True(removable[1]);    // removing the non-propagating branch 1 is fine
    }

    [Fact]
    public void ModuleInsert_AsksSrc2OnlyForTwoOperationBranches_AndShiftsLaterReferences()
    {
        EpnasModuleGenotype g = HandModule();
        var actions = new EpnasModuleActions();
        // insert conv-none at position 0: filter width 1, 24 channels, position 0, src1 0, propagate 1.
        EpnasModuleGenotype r = actions.Insert(g, [Insert, (int)EpnasBranchType.ConvNone, 0, 3, 0, 0, 1]);
        Assert.Equal(new EpnasBranch(EpnasBranchType.ConvNone, 1, 3, 24, 0, -1, true), r.Branches[0]);
        Assert.Equal(2, r.Branches[2].Src1);   // read branch 0 (state 1), now state 2
        Assert.True(r.IsValidFor(Small));
        EpnasDecisionRequest? src2 = actions.NextInsert(g, [Insert, (int)EpnasBranchType.ConvMaxPool, 0, 0, 0, 2, 1]);
        Assert.Equal(EpnasModuleActions.Src2, src2!.Kind);
        Assert.Equal([true, true, true, false], src2.Mask.Take(4));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void RandomValidActions_AlwaysGiveValidNetworks(ulong seed)
    {
        var rng = new SeededRandom(seed);
        var layers = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 8 });
        EpnasLayerGenotype g = new([Conv(3, 32, 0)]);
        var modules = new EpnasModuleActions();
        EpnasModuleGenotype m = HandModule();
        for (int step = 0; step < 40; step++)
        {
            g = RandomStep(layers, g, rng);
            Assert.True(g.IsValidFor(Small));
            m = RandomStep(modules, m, rng);
            Assert.True(m.IsValidFor(Small));
        }
    }

    internal static TG RandomStep<TG>(IEpnasActionSpace<TG> space, TG g, SeededRandom rng) where TG : class, IArchitecture
    {
        IReadOnlyList<int[]> groups = space.Groups(g);
        int[] ch = groups.Select(gr => Pick(space.ScaleMask(g, gr, true), rng)).ToArray();
        int[] wd = groups.Select(gr => Pick(space.ScaleMask(g, gr, false), rng)).ToArray();
        TG scaled = space.Scale(g, ch, wd);
        var d = new List<int>();
        while (space.NextInsert(scaled, d) is { } r) d.Add(Pick(r.Mask, rng));
        return space.Insert(scaled, d);
    }

    private static int Pick(bool[] mask, SeededRandom rng)
    {
        int[] valid = Enumerable.Range(0, mask.Length).Where(i => mask[i]).ToArray();
        return valid[rng.NextInt(valid.Length)];
    }
}
