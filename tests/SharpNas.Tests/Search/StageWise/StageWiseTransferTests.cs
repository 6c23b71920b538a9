using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Search.StageWise;

/// <summary>Weight transfer for bottleneck and cell stages: module j of stage i ← the donor's module j of stage i.</summary>
public sealed class StageWiseTransferTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpnas-swt-").FullName;
    private static readonly InputSpec Input = new(1, 8, 8, 3);

    public void Dispose() => Directory.Delete(_dir, true);

    private string SaveDonor(StageGenotype g, string name = "donor.safetensors")
    {
        var donor = g.Build(Input);
        donor.Initialize(new SeededRandom(5));
        string path = Path.Combine(_dir, name);
        Safetensors.Save(path, donor.StateDict());
        return path;
    }

    private static void AssertCopied(string donorPath, StageGenotype candidate, Func<string, bool> mayDiffer)
    {
        IReadOnlyDictionary<string, Tensor> weights = WeightTransfer.FromDonor(donorPath, candidate);
        var model = candidate.Build(Input);
        model.Initialize(new SeededRandom(99));
        Trainer.CopyWeights(model, weights);
        IReadOnlyDictionary<string, Tensor> donor = Safetensors.Load(donorPath).ByName;
        int compared = 0;
        foreach ((string name, Tensor t) in model.StateDict())
        {
            if (mayDiffer(name)) continue;
            Assert.True(donor.ContainsKey(name), $"{name} is not in the donor");
            Assert.Equal(donor[name].ToArray(), t.ToArray());
            compared++;
        }
        Assert.True(compared > 10);
    }

    [Fact]
    public void BottleneckCandidate_TakesTheDonorsBlocksOfTheSamePosition()
    {
        string path = SaveDonor(new StageGenotype(StageModule.Bottleneck, [3, 3], Width: 2));
        var candidate = new StageGenotype(StageModule.Bottleneck, [2, 1], Width: 2);
        AssertCopied(path, candidate, _ => false);
        Assert.DoesNotContain(WeightTransfer.FromDonor(path, candidate).Keys, k => k.StartsWith("layer1.2.", StringComparison.Ordinal) || k.StartsWith("layer2.1.", StringComparison.Ordinal));
    }

    [Fact]
    public void CellCandidate_TakesTheDonorsCellsOfTheSamePosition()
    {
        string path = SaveDonor(new StageGenotype(StageModule.Cell, [3, 2, 3], Width: 2));
        var candidate = new StageGenotype(StageModule.Cell, [2, 2, 1], Width: 2);
        IReadOnlyDictionary<string, Tensor> weights = WeightTransfer.FromDonor(path, candidate);
        Assert.Contains(weights.Keys, k => k.StartsWith("layer3.0.", StringComparison.Ordinal));
        Assert.DoesNotContain(weights.Keys, k => k.StartsWith("layer1.2.", StringComparison.Ordinal));
        // Every tensor is the donor's: with at least 2 cells in stages 1 and 2, the reduction cells read the same shapes.
        AssertCopied(path, candidate, _ => false);
    }

    [Fact]
    public void CellCandidate_WithOneCellInAStage_KeepsItsOwnReductionInputAdjustment()
    {
        string path = SaveDonor(new StageGenotype(StageModule.Cell, [2, 2], Width: 2));
        var candidate = new StageGenotype(StageModule.Cell, [1, 2], Width: 2);
        // The reduction cell after a one-cell stage reads the stem (3F channels) as its earlier input, not a normal cell (6F).
        AssertCopied(path, candidate, name => name.StartsWith("reduction2.h1_adjust.", StringComparison.Ordinal));
        Assert.DoesNotContain(WeightTransfer.FromDonor(path, candidate).Keys, k => k.StartsWith("reduction2.h1_adjust.", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(StageModule.Bottleneck)]
    [InlineData(StageModule.Cell)]
    public void ACandidateDeeperThanTheDonor_IsAClearError(StageModule module)
    {
        string path = SaveDonor(new StageGenotype(module, [2, 2], Width: 2));
        var e = Assert.Throws<GenotypeException>(() => WeightTransfer.FromDonor(path, new StageGenotype(module, [2, 3], Width: 2)));
        Assert.Contains("stage 2 has 3 blocks, the donor has 2", e.Message);
    }

    [Fact]
    public void ADonorOfAnotherModuleKind_IsAClearError()
    {
        string path = SaveDonor(new StageGenotype(StageModule.Basic, [3, 3], Width: 8));
        var e = Assert.Throws<GenotypeException>(() => WeightTransfer.FromDonor(path, new StageGenotype(StageModule.Bottleneck, [2, 2], Width: 2)));
        Assert.Contains("layer1.0.conv1.weight", e.Message);
        Assert.Contains("bottleneck", e.Message);
    }

    [Fact]
    public void ADonorOfAnotherWidth_IsAClearError()
    {
        string path = SaveDonor(new StageGenotype(StageModule.Cell, [2, 2], Width: 4));
        var e = Assert.Throws<GenotypeException>(() => WeightTransfer.FromDonor(path, new StageGenotype(StageModule.Cell, [1, 1], Width: 2)));
        Assert.Contains("width 2", e.Message);
    }
}
