using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Data;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Pruning;
using SharpNas.Search.Trials;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// What a stateless worker needs to train the children of an EPNAS search whose children are shared with workers
/// (<c>search epnas --store …</c> or <c>--workers N</c>): the data and its split and the child training schedule (the
/// full one, or performance prediction's). Stored as the search row's settings (kind <c>epnas</c>); the coordinator
/// and every worker build the same evaluator from it. Parameter sharing needs nothing here: the coordinator writes
/// each child's starting weights into its trial folder (<see cref="LeasedTrialRunner.InitialWeightsFile"/>).
/// </summary>
public sealed record EpnasChildSettings
{
    /// <summary>Search kind of the row.</summary>
    public const string Kind = "epnas";

    /// <summary>Dataset spec (<c>builtin</c>, <c>cifar10:DIR</c>, …); a path must be readable on every worker.</summary>
    public string Data { get; init; } = "builtin";
    /// <summary>Validation images carved from the training set (a count or a fraction, as <c>--val-size</c>).</summary>
    public string ValSize { get; init; } = "0.1";
    /// <summary>Training images used (0 = all).</summary>
    public int TrainSubset { get; init; }
    /// <summary>Batch size of the full schedule.</summary>
    public int Batch { get; init; } = 64;
    /// <summary>Learning rate of the full schedule.</summary>
    public double Lr { get; init; } = 0.05;

    /// <summary>Learning-rate schedule by name (<c>--schedule</c>), laid over each training's epochs.</summary>
    public string Schedule { get; init; } = "cosine";
    /// <summary>The run's seed.</summary>
    public ulong Seed { get; init; }
    /// <summary>Epochs of the full schedule (<c>--child-epochs</c>).</summary>
    public int Epochs { get; init; } = 1;
    /// <summary>Performance prediction (<c>--predict</c>): children train on <see cref="EpnasPrediction.Schedule"/>.</summary>
    public bool Predict { get; init; }
    /// <summary><c>--predict-epochs</c>, <c>--predict-batch</c>, <c>--predict-lr</c> (null: the defaults).</summary>
    public int? PredictEpochs { get; init; }
    /// <inheritdoc cref="PredictEpochs"/>
    public int? PredictBatch { get; init; }
    /// <inheritdoc cref="PredictEpochs"/>
    public double? PredictLr { get; init; }

    /// <summary>Loads the data, takes the training subset and carves the validation split, as the search command does.</summary>
    public (DataSpec Spec, TrainingData Data) LoadData() => SearchData.Load(Data, ValSize, TrainSubset, Seed);

    /// <summary>The full schedule (evaluation in batches of 64: a wide child at full resolution needs GBs of
    /// activations at the default 256).</summary>
    public TrainerOptions FullSchedule() =>
        new() { Epochs = Epochs, BatchSize = Batch, LearningRate = Lr, ScheduleName = Schedule, Seed = Seed, EvaluateTestEveryEpoch = false, EvalBatchSize = 64 };

    /// <summary>Performance prediction's schedule derived from the full one.</summary>
    public TrainerOptions PredictionSchedule() => EpnasPrediction.Schedule(FullSchedule(), PredictEpochs, PredictBatch, PredictLr);

    /// <summary>The schedule the children train on.</summary>
    public TrainerOptions ChildSchedule() => Predict ? PredictionSchedule() : FullSchedule();

    /// <summary>The evaluator of the children on <paramref name="data"/> (loaded by <see cref="LoadData"/>): trains each
    /// from the starting weights its trial folder holds, if any; <paramref name="pruning"/> stops weak children.</summary>
    public TrainingEvaluator CreateEvaluator(DataSpec spec, TrainingData data, TrialPruning? pruning = null) =>
        new(data, spec.ToString(), ChildSchedule(), new CostSettings { LatencyRuns = 0 }, scorer: null, pruning)
        {
            InitialWeights = LeasedTrialRunner.StoredInitialWeights,
        };

    /// <summary>The JSON form stored in the search row.</summary>
    public JsonObject ToJson() => new()
    {
        ["data"] = Data, ["val_size"] = ValSize, ["train_subset"] = TrainSubset, ["batch"] = Batch, ["lr"] = Lr,
        ["seed"] = Seed.ToString(CultureInfo.InvariantCulture), ["epochs"] = Epochs, ["predict"] = Predict,
        ["predict_epochs"] = PredictEpochs, ["predict_batch"] = PredictBatch, ["predict_lr"] = PredictLr, ["schedule"] = Schedule,
    };

    /// <summary>Reads the stored form; a missing or mistyped field is an error naming it.</summary>
    public static EpnasChildSettings FromJson(JsonObject o, string where)
    {
        T Get<T>(string name) => o[name] is JsonNode n ? Read<T>(n, name, where) : throw new InvalidDataException($"{where}: settings lack \"{name}\"");
        T? Optional<T>(string name) where T : struct => o[name] is JsonNode n ? Read<T>(n, name, where) : null;
        return new EpnasChildSettings
        {
            Data = Get<string>("data"), ValSize = Get<string>("val_size"), TrainSubset = Get<int>("train_subset"), Batch = Get<int>("batch"),
            Lr = Get<double>("lr"), Seed = ulong.Parse(Get<string>("seed"), CultureInfo.InvariantCulture), Epochs = Get<int>("epochs"),
            Predict = Get<bool>("predict"), PredictEpochs = Optional<int>("predict_epochs"), PredictBatch = Optional<int>("predict_batch"),
            PredictLr = Optional<double>("predict_lr"), Schedule = o["schedule"] is JsonNode sc ? Read<string>(sc, "schedule", where) : "cosine",
        };
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
