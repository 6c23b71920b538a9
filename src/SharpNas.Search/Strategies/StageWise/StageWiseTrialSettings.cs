using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.StageWise;

/// <summary>
/// What a stateless worker needs to train the networks of a stage-wise search whose trials are shared with workers
/// (<c>search stagewise --store …</c> or <c>--workers N</c>): the data and its split, the training settings and the
/// stage-importance criterion. Stored as the search row's settings (kind <c>stagewise</c>); the coordinator and every
/// worker build the same evaluator from it (epochs, stage scoring and weight transfer come with each trial).
/// </summary>
public sealed record StageWiseTrialSettings
{
    /// <summary>Search kind of the row.</summary>
    public const string Kind = "stagewise";

    /// <summary>Dataset spec; a path must be readable on every worker.</summary>
    public string Data { get; init; } = "builtin";
    /// <summary>Validation images carved from the training set.</summary>
    public string ValSize { get; init; } = "0.1";
    /// <summary>Training images used (0 = all).</summary>
    public int TrainSubset { get; init; }
    /// <summary>Batch size.</summary>
    public int Batch { get; init; } = 128;
    /// <summary>Base learning rate.</summary>
    public double Lr { get; init; } = 0.1;

    /// <summary>Learning-rate schedule by name (<c>--schedule</c>), laid over each training's epochs.</summary>
    public string Schedule { get; init; } = "multistep";
    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; }
    /// <summary>The stage-importance criterion (<c>--criterion</c>).</summary>
    public string Criterion { get; init; } = "pls";

    /// <summary>Loads the data, takes the training subset and carves the validation split, as the search command does.</summary>
    public (DataSpec Spec, TrainingData Data) LoadData() => SearchData.Load(Data, ValSize, TrainSubset, Seed);

    /// <summary>The training options (each trial sets its epochs).</summary>
    public TrainerOptions Trainer(int epochs) => new() { Epochs = epochs, BatchSize = Batch, LearningRate = Lr, ScheduleName = Schedule, Seed = Seed, EvaluateTestEveryEpoch = false };

    /// <summary>The costs measured of every network (latency at batch 1).</summary>
    public static CostSettings Costs() => new() { LatencyRuns = 3, LatencyBatches = [1] };

    /// <summary>The evaluator of the search's networks on <paramref name="data"/>, scoring stages with <paramref name="scorer"/>.</summary>
    public TrainingEvaluator CreateEvaluator(DataSpec spec, TrainingData data, int epochs, IStageScorer scorer) =>
        new(data, spec.ToString(), Trainer(epochs), Costs(), scorer);

    /// <summary>The JSON form stored in the search row.</summary>
    public JsonObject ToJson() => new()
    {
        ["data"] = Data, ["val_size"] = ValSize, ["train_subset"] = TrainSubset, ["batch"] = Batch, ["lr"] = Lr,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["criterion"] = Criterion, ["schedule"] = Schedule,
    };

    /// <summary>Reads the stored form; a missing or mistyped field is an error naming it.</summary>
    public static StageWiseTrialSettings FromJson(JsonObject o, string where)
    {
        T Get<T>(string name)
        {
            JsonNode n = o[name] ?? throw new InvalidDataException($"{where}: settings lack \"{name}\"");
            try { return n.GetValue<T>(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new InvalidDataException($"{where}: settings field \"{name}\" should be a {typeof(T).Name}, found {n.ToJsonString()}");
            }
        }
        return new StageWiseTrialSettings
        {
            Data = Get<string>("data"), ValSize = Get<string>("val_size"), TrainSubset = Get<int>("train_subset"), Batch = Get<int>("batch"),
            Lr = Get<double>("lr"), Seed = ulong.Parse(Get<string>("seed"), CultureInfo.InvariantCulture), Criterion = Get<string>("criterion"),
            Schedule = Get<string>("schedule"),
        };
    }
}
