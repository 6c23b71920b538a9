using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Ensembles;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.StageWise;
using SharpNas.Training;

namespace SharpNas.Tests.Search;

public sealed class WeightTransferAndEnsembleTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("sharpnas-wt-").FullName;
    private static readonly InputSpec Input = new(1, 8, 8, 3);

    public void Dispose() => Directory.Delete(_dir, true);

    private string SaveDonor(int[] depths)
    {
        var donor = new StageGenotype(StageModule.Basic, depths, Width: 4).Build(Input);
        donor.Initialize(new SeededRandom(5));
        string path = Path.Combine(_dir, "donor.safetensors");
        Safetensors.Save(path, donor.StateDict());
        return path;
    }

    [Fact]
    public void CandidateBlocksTakeTheDonorsBlocksOfTheSamePosition()
    {
        string path = SaveDonor([3, 3]);
        var candidate = new StageGenotype(StageModule.Basic, [2, 1], Width: 4);
        IReadOnlyDictionary<string, Tensor> weights = WeightTransfer.FromDonor(path, candidate);
        var model = candidate.Build(Input);
        model.Initialize(new SeededRandom(99));
        Trainer.CopyWeights(model, weights);
        var donor = Safetensors.Load(path).ByName;
        foreach ((string name, Tensor t) in model.StateDict())
            Assert.Equal(donor[name].ToArray(), t.ToArray());
        Assert.DoesNotContain(weights.Keys, k => k.StartsWith("layer2.1.", StringComparison.Ordinal) || k.StartsWith("layer1.2.", StringComparison.Ordinal));
    }

    [Fact]
    public void ACandidateDeeperThanTheDonorIsAClearError()
    {
        string path = SaveDonor([2, 2]);
        var e = Assert.Throws<GenotypeException>(() => WeightTransfer.FromDonor(path, new StageGenotype(StageModule.Basic, [2, 3], Width: 4)));
        Assert.Contains("stage 2 has 3 blocks, the donor has 2", e.Message);
    }

    [Fact]
    public void EnsembleAveragesSoftmaxOutputs()
    {
        // Two samples, two classes. Member A is confidently wrong on sample 0, member B mildly right: the average decides.
        float[] a = [0.9f, 0.1f, 0.2f, 0.8f];
        float[] b = [0.0f, 1.0f, 0.6f, 0.4f];
        int[] labels = [1, 1];
        Assert.Equal(1.0, SoftmaxEnsemble.Accuracy([a, b], labels, 2));     // means [0.45, 0.55], [0.4, 0.6]
        Assert.Equal(0.5, SoftmaxEnsemble.Accuracy([a], labels, 2));
        Assert.Equal(0.5, SoftmaxEnsemble.Accuracy([b], labels, 2));
        Assert.Throws<ArgumentException>(() => SoftmaxEnsemble.Accuracy([a, [0.5f]], labels, 2));
    }
}
