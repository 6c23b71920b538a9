using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Search.Spaces;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Discrete;

/// <summary>
/// What a stateless worker needs to evaluate the trials of a NASNet search: the data and its split, the child training
/// settings and the child network's shape. Stored as the search row's settings (kind <c>nasnet</c>); the coordinator
/// and every worker build the same evaluator from it.
/// </summary>
public sealed record NasNetChildSettings
{
    /// <summary>Search kind of the row.</summary>
    public const string Kind = "nasnet";

    /// <summary>Dataset spec (<c>builtin</c>, <c>cifar10:DIR</c>, …); a path must be readable on every worker.</summary>
    public string Data { get; init; } = "builtin";
    /// <summary>Validation images carved from the training set (a count or a fraction, as <c>--val-size</c>).</summary>
    public string ValSize { get; init; } = "0.1";
    /// <summary>Training images used (0 = all).</summary>
    public int TrainSubset { get; init; }
    /// <summary>Batch size of the children.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Base learning rate of the children.</summary>
    public double Lr { get; init; } = 0.05;
    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; }
    /// <summary>Blocks per cell (B).</summary>
    public int Blocks { get; init; } = 5;
    /// <summary>Normal cells per stage of a child (N).</summary>
    public int Cells { get; init; } = 1;
    /// <summary>Initial filters of a child (F).</summary>
    public int Filters { get; init; } = 8;
    /// <summary>Training epochs per child.</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Learning-rate schedule of the children, by name (<c>--schedule</c>); stored only when not the default
    /// <c>cosine</c>, so settings written before the field existed read, and resume, as cosine.</summary>
    public string Schedule { get; init; } = DefaultSchedule;

    /// <summary>The children's schedule when the settings name none.</summary>
    public const string DefaultSchedule = "cosine";

    /// <summary>The search space.</summary>
    public NasNetDecisionSpace Space() => new(Blocks);

    /// <summary>Loads the data, takes the training subset and carves the validation split, as the search command does.</summary>
    public (DataSpec Spec, TrainingData Data) LoadData() => SearchData.Load(Data, ValSize, TrainSubset, Seed);

    /// <summary>The children's training options.</summary>
    public TrainerOptions Trainer() => new() { Epochs = Epochs, BatchSize = Batch, LearningRate = Lr, ScheduleName = Schedule, Seed = Seed, EvaluateTestEveryEpoch = false };

    /// <summary>The evaluator of the search's samples, training each child in <c>RUNDIR/trials/&lt;sample key&gt;</c>
    /// (reporting its epochs to, and pruned by, <paramref name="pruning"/> when given).</summary>
    public TrainedChildEvaluator CreateEvaluator(string runDir, out TrainingEvaluator trainer, TrialPruning? pruning = null)
    {
        (DataSpec spec, TrainingData data) = LoadData();
        trainer = new TrainingEvaluator(data, spec.ToString(), Trainer(), new CostSettings { LatencyRuns = 0 }, scorer: null, pruning);
        int n = Cells, f = Filters;
        return new TrainedChildEvaluator(Space(), s => NasNetGenotype.FromDecisions(s, n, f), trainer, runDir, Epochs);
    }

    /// <summary>The artifact folder of a sample's trial relative to the artifact root: <c>SEARCH/trials/KEY</c>.</summary>
    public static string ArtifactDir(string searchId, IDiscreteSpace space, int[] sample) => Path.Combine(searchId, "trials", space.Key(sample));

    /// <summary>The JSON form stored in the search row.</summary>
    public JsonObject ToJson() => WithSchedule(new()
    {
        ["data"] = Data, ["val_size"] = ValSize, ["train_subset"] = TrainSubset, ["batch"] = Batch, ["lr"] = Lr,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["blocks"] = Blocks, ["cells"] = Cells, ["filters"] = Filters, ["epochs"] = Epochs,
    });

    private JsonObject WithSchedule(JsonObject o)
    {
        if (Schedule != DefaultSchedule) o["schedule"] = Schedule;
        return o;
    }

    /// <summary>Reads the stored form; a missing or mistyped field is an error naming it (but for <c>schedule</c>, which
    /// defaults to cosine).</summary>
    public static NasNetChildSettings FromJson(JsonObject o, string where)
    {
        T Get<T>(string name) => o[name] is JsonNode n ? Read<T>(n, name, where) : throw new InvalidDataException($"{where}: settings lack \"{name}\"");
        var settings = new NasNetChildSettings
        {
            Data = Get<string>("data"), ValSize = Get<string>("val_size"), TrainSubset = Get<int>("train_subset"), Batch = Get<int>("batch"),
            Lr = Get<double>("lr"), Seed = ulong.Parse(Get<string>("seed"), CultureInfo.InvariantCulture), Blocks = Get<int>("blocks"),
            Cells = Get<int>("cells"), Filters = Get<int>("filters"), Epochs = Get<int>("epochs"),
            Schedule = o["schedule"] is JsonNode s ? Read<string>(s, "schedule", where) : DefaultSchedule,
        };
        try { _ = settings.Trainer().EffectiveSchedule; }
        catch (FormatException e) { throw new InvalidDataException($"{where}: settings field \"schedule\": {e.Message}"); }
        return settings;
    }

    private static T Read<T>(JsonNode n, string name, string where)
    {
        try { return n.GetValue<T>(); }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"{where}: settings field \"{name}\" should be a {typeof(T).Name}, found {n.ToJsonString()}");
        }
    }
}

/// <summary>
/// A stand-in evaluator to try out a store and its workers without training (search kind <c>smoke</c>): the reward of
/// a sample is a fixed pseudo-random number in [0, 1) derived from its key, after waiting <see cref="Seconds"/>.
/// </summary>
public sealed class SmokeEvaluator(IDiscreteSpace space, double seconds) : IDiscreteEvaluator
{
    /// <summary>Search kind of the row.</summary>
    public const string Kind = "smoke";

    /// <summary>Seconds each evaluation takes.</summary>
    public double Seconds => seconds;

    /// <inheritdoc/>
    public DiscreteEvaluation Evaluate(int[] sample, CancellationToken cancel)
    {
        if (seconds > 0 && cancel.WaitHandle.WaitOne(TimeSpan.FromSeconds(seconds))) cancel.ThrowIfCancellationRequested();
        string key = space.Key(sample);
        ulong h = 14695981039346656037;   // FNV-1a of the key: the same reward in every process
        foreach (char c in key) h = (h ^ c) * 1099511628211;
        return new DiscreteEvaluation((h >> 11) / (double)(1UL << 53), seconds, new JsonObject { ["smoke"] = true });
    }

    /// <summary>The space of a smoke search: <paramref name="decisions"/> decisions of <paramref name="choices"/> choices.</summary>
    public static DiscreteSpace Space(int decisions, int choices) =>
        new(Enumerable.Range(0, decisions).Select(i => new DiscreteDecision("d" + i.ToString(CultureInfo.InvariantCulture), choices)).ToArray());
}

/// <summary>Rebuilds, from a search row, the evaluator a worker runs on that search's trials.</summary>
public static class DiscreteTrialEvaluators
{
    /// <summary>
    /// The evaluator and space of search <paramref name="search"/>, with artifacts under
    /// <c><paramref name="artifactRoot"/>/SEARCH</c>. Kinds: <c>nasnet</c> (<see cref="NasNetChildSettings"/>) and
    /// <c>smoke</c> (settings <c>decisions</c>, <c>choices</c>, <c>seconds</c>). With the search's <paramref name="store"/>,
    /// trained children report their epochs to it and are pruned as the search row's <c>prune</c> setting says.
    /// </summary>
    public static (IDiscreteEvaluator Evaluator, IDiscreteSpace Space, TrainingEvaluator? Trainer) Create(SearchRecord search, string artifactRoot,
        ITrialStore? store = null)
    {
        string where = $"search {search.Id}";
        string runDir = Path.Combine(artifactRoot, search.Id);
        switch (search.Kind)
        {
            case NasNetChildSettings.Kind:
            {
                NasNetChildSettings settings = NasNetChildSettings.FromJson(search.Settings, where);
                TrainedChildEvaluator evaluator = settings.CreateEvaluator(runDir, out TrainingEvaluator trainer,
                    store is null ? null : TrialPruning.FollowingSearch(store));
                return (evaluator, settings.Space(), trainer);
            }
            case SmokeEvaluator.Kind:
            {
                int decisions = search.Settings["decisions"]?.GetValue<int>() ?? 4, choices = search.Settings["choices"]?.GetValue<int>() ?? 3;
                DiscreteSpace space = SmokeEvaluator.Space(decisions, choices);
                return (new SmokeEvaluator(space, search.Settings["seconds"]?.GetValue<double>() ?? 0), space, null);
            }
            default:
                throw new InvalidDataException($"{where} is of kind {search.Kind}: workers evaluate nasnet and smoke searches only");
        }
    }
}
