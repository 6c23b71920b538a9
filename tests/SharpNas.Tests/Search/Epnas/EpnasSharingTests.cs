using SharpNas.Data;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Search.Strategies.Epnas;
using SharpNas.Search.Trials;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;
using SharpNas.Training;
using static SharpNas.Tests.Search.Epnas.EpnasGenotypeTests;

namespace SharpNas.Tests.Search.Epnas;

/// <summary>Parameter sharing wired into child training: what a child loads, when stored weights become visible,
/// clashes, padding, the evaluator's initial-weights hook, and the search driving the steps.</summary>
public sealed class EpnasSharingTests() : TempFolderTests("epnas-share")
{
    /// <summary>A "trained" state dict of <paramref name="g"/>: its initialisation from <paramref name="seed"/>.</summary>
    private static IReadOnlyDictionary<string, Tensor> Weights(IEpnasGenotype g, ulong seed)
    {
        Module net = g.Build(Small);
        net.Initialize(new SeededRandom(seed));
        return net.StateDict().ToDictionary(t => t.Name, t => t.Tensor);
    }

    [Fact]
    public void AChild_LoadsWhatTheLastStepStored_NotWhatItsOwnStepRemembers()
    {
        var g = new EpnasLayerGenotype([Conv(3, 32, 0), Pool(2, 1)], 16);
        var trained = new Dictionary<string, IReadOnlyDictionary<string, Tensor>> { ["a"] = Weights(g, 1) };
        var sharing = new EpnasParameterSharing<EpnasLayerGenotype>(Small, k => trained.GetValueOrDefault(k));
        Assert.Null(sharing.InitialWeights(g));                       // empty dictionary
        Assert.True(sharing.Remember("a", g, 0.5));
        Assert.False(sharing.Remember("missing", g, 0.9));            // no weights: nothing remembered
        Assert.Null(sharing.InitialWeights(g));                       // same step: not visible yet
        sharing.EndStep();
        IReadOnlyDictionary<string, Tensor> init = sharing.InitialWeights(g)!;
        Assert.Equal(["layers.0.bn.bias", "layers.0.bn.running_mean", "layers.0.bn.running_var", "layers.0.bn.weight", "layers.0.conv.weight"],
            init.Keys.Order(StringComparer.Ordinal));                 // full names; the stem and the classifier are not shared
        Assert.Equal(trained["a"]["layers.0.conv.weight"].ToArray(), init["layers.0.conv.weight"].ToArray());
    }

    [Fact]
    public void Clash_KeepsTheMoreAccurateChild_AndAWiderLayerKeepsItsInitialisationBeyondTheStoredBlock()
    {
        var g32 = new EpnasLayerGenotype([Conv(3, 32, 0)], 16);
        var trained = new Dictionary<string, IReadOnlyDictionary<string, Tensor>> { ["good"] = Weights(g32, 1), ["bad"] = Weights(g32, 2) };
        var sharing = new EpnasParameterSharing<EpnasLayerGenotype>(Small, k => trained[k]);
        sharing.Remember("bad", g32, 0.3);
        sharing.Remember("good", g32, 0.8);
        sharing.EndStep();
        Assert.Equal(trained["good"]["layers.0.conv.weight"].ToArray(), sharing.InitialWeights(g32)!["layers.0.conv.weight"].ToArray());

        var g64 = new EpnasLayerGenotype([Conv(3, 64, 0)], 16);
        float[] wide = sharing.InitialWeights(g64)!["layers.0.conv.weight"].ToArray();   // [64, 16, 3, 3]
        float[] stored = trained["good"]["layers.0.conv.weight"].ToArray();              // [32, 16, 3, 3]
        Assert.Equal(stored, wide.Take(stored.Length));
        float[] rest = wide.Skip(stored.Length).ToArray();
        Assert.Contains(rest, v => v != 0);                                               // not zero-padded: no dead filters
        Assert.Equal(rest, sharing.InitialWeights(g64)!["layers.0.conv.weight"].ToArray().Skip(stored.Length));   // deterministic
    }

    [Fact]
    public void ModuleKeys_CoverEveryCellOfTheStack()
    {
        EpnasModuleGenotype g = HandModule();
        var sharing = new EpnasParameterSharing<EpnasModuleGenotype>(Small, _ => Weights(g, 4));
        sharing.Remember("x", g, 0.5);
        sharing.EndStep();
        IReadOnlyDictionary<string, Tensor> init = sharing.InitialWeights(g)!;
        int cells = g.Stages * g.CellsPerStage + g.Stages - 1;
        Assert.Equal(cells, init.Keys.Select(k => k.Split('.')[1]).Distinct().Count());
        Assert.DoesNotContain(init.Keys, k => k.StartsWith("stem", StringComparison.Ordinal) || k.StartsWith("classifier", StringComparison.Ordinal));
    }

    [Fact]
    public void TrainingEvaluator_StartsATrialFromTheGivenInitialWeights()
    {
        var data = new TrainingData(TinyData.Make(24, classes: 2, channels: 3), TinyData.Make(8, classes: 2, channels: 3, seed: 2), null);
        var g = new EpnasLayerGenotype([Conv(3, 16, 0)], 16);
        IReadOnlyDictionary<string, Tensor> given = Weights(g, 11);
        // A vanishing learning rate and no weight decay: the trained conv weight is the initial one.
        var options = new TrainerOptions { Epochs = 1, BatchSize = 8, LearningRate = 1e-12, WeightDecay = 0, Momentum = 0, Seed = 3, Augmentation = AugmentationOptions.None };
        var evaluator = new TrainingEvaluator(data, "tiny", options, new CostSettings { LatencyRuns = 0 }, scorer: null)
        {
            InitialWeights = r => new Dictionary<string, Tensor> { ["layers.0.conv.weight"] = given["layers.0.conv.weight"] },
        };
        string dir = Path.Combine(Dir, "t");
        evaluator.Evaluate(new TrialRequest("t", "child", g, dir, 1), CancellationToken.None);
        float[] trained = Safetensors.Load(Path.Combine(dir, "model.safetensors")).ByName["layers.0.conv.weight"].ToArray();
        float[] expected = given["layers.0.conv.weight"].ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], trained[i], 5);
    }

    /// <summary>Accuracy from the parameter count; writes the architecture's initialisation as its trained weights.</summary>
    private sealed class WeightWritingEvaluator : IEvaluator
    {
        public List<(string Key, int Loaded)> Calls { get; } = [];
        public Func<TrialRequest, IReadOnlyDictionary<string, Tensor>?>? InitialWeights { get; set; }

        public TrialMetrics Evaluate(TrialRequest request, CancellationToken cancel)
        {
            Calls.Add((request.Key, InitialWeights?.Invoke(request)?.Count ?? 0));
            Directory.CreateDirectory(request.ArtifactDir);
            Module net = request.Architecture.Build(Small);
            net.Initialize(new SeededRandom(5));
            Safetensors.Save(Path.Combine(request.ArtifactDir, "model.safetensors"), net.StateDict());
            long p = request.Architecture.Cost(Small).Parameters;
            return new TrialMetrics { ValidationAccuracy = 1 - 1.0 / (1 + p / 20_000.0), Parameters = p };
        }
    }

    private (EpnasSearchResult<EpnasLayerGenotype> Result, EpnasParameterSharing<EpnasLayerGenotype> Sharing, WeightWritingEvaluator Eval) Search()
    {
        var eval = new WeightWritingEvaluator();
        using var store = new SqliteTrialStore(Path.Combine(Dir, "trials.db"));
        var runner = new TrialRunner(store, eval, Dir);
        var sharing = EpnasParameterSharing<EpnasLayerGenotype>.FromRunFolder(Small, store, Dir);
        eval.InitialWeights = r => sharing.InitialWeights((EpnasLayerGenotype)r.Architecture);
        var options = new EpnasSearchOptions<EpnasLayerGenotype>
        {
            Seeds = [new EpnasLayerGenotype([Conv(3, 32, 0), Pool(2, 1)])], Input = Small, Episodes = 2, Steps = 2, Branches = 2, TopK = 2,
            ChildEpochs = 1, Seed = 3, Policy = new EpnasPolicyOptions { ScaleLstmSize = 16, InsertLstmSize = 16 },
        };
        var space = new EpnasLayerActions(Small, new EpnasActionOptions { MaxElements = 6, ScaleGroups = 2 });
        var result = new EpnasSearch<EpnasLayerGenotype>(options, space, runner) { Sharing = sharing }.Run();
        return (result, sharing, eval);
    }

    [Fact]
    public void Search_StoresEveryStep_ChildrenAfterTheFirstStepStartFromTheDictionary_AndAResumeRebuildsIt()
    {
        var (first, sharing, eval) = Search();
        Assert.Equal(4, sharing.Dictionary.Step);                                 // one sharing step per search step
        Assert.True(sharing.Dictionary.Count > 0);
        Assert.All(eval.Calls.Where(c => c.Key.StartsWith("ep0/step0/", StringComparison.Ordinal)), c => Assert.Equal(0, c.Loaded));
        Assert.Contains(eval.Calls, c => c.Loaded > 0);

        var (again, resumed, evalAgain) = Search();                               // everything recalled from the store
        Assert.Empty(evalAgain.Calls);
        Assert.Equal(first.Children.Select(c => c.Genotype), again.Children.Select(c => c.Genotype));
        Assert.Equal(sharing.Dictionary.Count, resumed.Dictionary.Count);
    }
}

/// <summary>Performance prediction: the schedule, Kendall's τ and the sampled children of a check.</summary>
public sealed class EpnasPredictionTests
{
    [Fact]
    public void Schedule_ScalesBatchAndRateTogether_HalvesTheEpochs_AndDecaysToZeroAtTheEarlyStop()
    {
        var full = new TrainerOptions { Epochs = 5, BatchSize = 64, LearningRate = 0.05 };
        TrainerOptions p = EpnasPrediction.Schedule(full);
        Assert.Equal((3, 256), (p.Epochs, p.BatchSize));
        Assert.Equal(0.2, p.LearningRate, 12);
        Assert.Equal(0.2, p.EffectiveSchedule.At(0, p.LearningRate), 12);
        Assert.Equal(0.0, p.EffectiveSchedule.At(3, p.LearningRate), 12);
        TrainerOptions custom = EpnasPrediction.Schedule(full, epochs: 2, batch: 128);
        Assert.Equal((2, 128, 0.1), (custom.Epochs, custom.BatchSize, Math.Round(custom.LearningRate, 12)));
        Assert.Equal(1, EpnasPrediction.Schedule(full with { Epochs = 1 }).Epochs);
        Assert.Throws<ArgumentException>(() => EpnasPrediction.Schedule(full, epochs: 0));
    }

    [Fact]
    public void KendallTau_MatchesHandComputedValues()
    {
        Assert.Equal(1.0, EpnasPrediction.KendallTau([1, 2, 3, 4], [10, 20, 30, 40]), 12);
        Assert.Equal(-1.0, EpnasPrediction.KendallTau([1, 2, 3, 4], [4, 3, 2, 1]), 12);
        Assert.Equal(4.0 / 6, EpnasPrediction.KendallTau([1, 2, 3, 4], [1, 3, 2, 4]), 12);   // 5 concordant, 1 discordant pair
        // τ-b with a tie in b: pairs (1,2) tied in b; C = 5, D = 0; √(6·5).
        Assert.Equal(5 / Math.Sqrt(30), EpnasPrediction.KendallTau([1, 2, 3, 4], [1, 1, 2, 3]), 12);
        Assert.Equal(0, EpnasPrediction.KendallTau([1, 1, 1], [1, 2, 3]));
        Assert.Throws<ArgumentException>(() => EpnasPrediction.KendallTau([1, 2], [1]));
    }

    [Fact]
    public void SampleChildren_AreDistinctValidNetworks_ThatDependOnlyOnTheSeed()
    {
        var input = new InputSpec(1, 28, 28, 10);
        var space = new EpnasLayerActions(input);
        IReadOnlyList<EpnasLayerGenotype> a = EpnasPrediction.SampleChildren(space, EpnasSeeds.MinimalLayerNetwork(), 10, 4, new SeededRandom(1));
        IReadOnlyList<EpnasLayerGenotype> b = EpnasPrediction.SampleChildren(space, EpnasSeeds.MinimalLayerNetwork(), 10, 4, new SeededRandom(1));
        Assert.Equal(10, a.Count);
        Assert.Equal(10, a.Distinct().Count());
        Assert.All(a, g => Assert.True(g.IsValidFor(input)));
        Assert.Equal(a, b);
        Assert.True(a.Select(g => g.Layers.Count).Distinct().Count() > 1);
    }
}
