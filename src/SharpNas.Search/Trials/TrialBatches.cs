using System.Text.Json.Nodes;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Pruning;
using SharpNas.Training;

namespace SharpNas.Search.Trials;

/// <summary>
/// Runs batches of trials for the searches that drive an <see cref="IEvaluator"/> (EPNAS, stage-wise): either one by
/// one in this process (<see cref="SequentialTrials"/>, a <see cref="TrialRunner"/>) or shared with <c>sharpnas
/// worker</c> processes through the store's leases (<see cref="LeasedTrialRunner"/>).
/// </summary>
public interface ITrialBatchRunner
{
    /// <summary>The store.</summary>
    ITrialStore Store { get; }

    /// <summary>Trials evaluated by this process (not answered from the store or by other processes).</summary>
    int Evaluated { get; }

    /// <summary>True when the trials of a batch may be evaluated at once by several processes: a search then hands
    /// over its independent trials together.</summary>
    bool Parallel { get; }

    /// <summary>Evaluates (or recalls) a batch; results in the batch's order, null for a trial that failed for good
    /// (only a leased runner returns null: a sequential one throws the error).</summary>
    IReadOnlyList<TrialMetrics?> RunMany(IReadOnlyList<TrialSpec> batch, CancellationToken cancel = default);

    /// <summary>The folder of a trial's files (checkpoint, <c>model.safetensors</c>, test probabilities).</summary>
    string ArtifactPath(Trial trial);
}

/// <summary>One trial after another in this process, as <see cref="TrialRunner.Run"/> runs it (the default of every search);
/// <paramref name="runDir"/> (the runner's) resolves artifact folders.</summary>
public sealed class SequentialTrials(TrialRunner runner, string? runDir = null) : ITrialBatchRunner
{
    /// <summary>The runner.</summary>
    public TrialRunner Runner => runner;

    /// <inheritdoc/>
    public ITrialStore Store => runner.Store;

    /// <inheritdoc/>
    public int Evaluated => runner.Evaluated;

    /// <inheritdoc/>
    public bool Parallel => false;

    /// <inheritdoc/>
    public IReadOnlyList<TrialMetrics?> RunMany(IReadOnlyList<TrialSpec> batch, CancellationToken cancel = default) =>
        batch.Select(t => (TrialMetrics?)runner.Run(t.Key, t.Role, t.Architecture, t.Epochs, t.ScoreStages, t.TransferFrom, cancel)).ToList();

    /// <inheritdoc/>
    public string ArtifactPath(Trial trial) => Path.Combine(runDir ?? throw new InvalidOperationException("artifact folders: the sequential trials were given no run folder"), trial.ArtifactDir ?? throw new InvalidDataException($"trial {trial.Key} has no artifact folder"));
}

/// <summary>
/// Runs batches of trials through the store's leases, like the NASNet search's batches of children: every trial of
/// a batch is enqueued (its files under <c>ROOT/SEARCH/trials/KEY</c>, ROOT being the artifact root every worker
/// shares), then this process leases and evaluates queued trials like any <c>sharpnas worker</c> — or only waits for
/// the workers when <see cref="ShouldTrain"/> says so — until every trial of the batch is completed, pruned or
/// failed. A trial already completed is answered from the store; a trial whose worker died is taken over once its
/// lease expires. What each process runs on a leased trial is <see cref="EvaluateTrial"/>, so a trial's result does
/// not depend on who evaluated it.
/// </summary>
public sealed class LeasedTrialRunner(ITrialStore store, IEvaluator evaluator, string artifactRoot, LeaseOptions lease) : ITrialBatchRunner
{
    /// <summary>File, in a trial's folder, of the weights the trial starts from (see <see cref="InitialWeights"/>).</summary>
    public const string InitialWeightsFile = "init.safetensors";

    private readonly HashSet<string> _ours = new(StringComparer.Ordinal);
    private TrialWorker? _worker;

    /// <summary>Weights a new trial starts from (e.g. EPNAS's parameter-sharing dictionary), computed by this process when
    /// it enqueues the trial and written to <see cref="InitialWeightsFile"/> in the trial's folder, where the
    /// evaluating process reads them; null: none.</summary>
    public Func<TrialSpec, IReadOnlyDictionary<string, Tensor>?>? InitialWeights { get; set; }

    /// <summary>Whether this process evaluates queued trials itself (null: always). Asked at every poll, so a
    /// coordinator that left training to its workers can take over when they are gone.</summary>
    public Func<bool>? ShouldTrain { get; init; }

    /// <summary>The lease-owner name of this process.</summary>
    public string Owner { get; init; } = TrialWorker.OwnerName("coordinator");

    /// <summary>Called when this process leases a trial to evaluate it.</summary>
    public event Action<Trial>? Started;

    /// <summary>Called when a trial of a batch has ended (<c>fromStore</c>: evaluated earlier or by another process);
    /// the metrics are null for a failed trial.</summary>
    public event Action<Trial, TrialMetrics?, bool>? Finished;

    /// <inheritdoc/>
    public ITrialStore Store => store;

    /// <inheritdoc/>
    public int Evaluated => _ours.Count;

    /// <inheritdoc/>
    public bool Parallel => true;

    /// <summary>The artifact folder of trial <paramref name="key"/> of search <paramref name="searchId"/>, relative to the artifact root.</summary>
    public static string ArtifactDir(string searchId, string key) => Path.Combine(searchId, "trials", key.Replace('/', '-'));

    /// <inheritdoc/>
    public string ArtifactPath(Trial trial) => Path.Combine(artifactRoot, trial.ArtifactDir ?? throw new InvalidDataException($"trial {trial.Key} has no artifact folder"));

    /// <summary>The configuration stored with a trial (as <see cref="TrialRunner"/> stores it).</summary>
    private static JsonObject Config(TrialSpec t) => new() { ["epochs"] = t.Epochs, ["score_stages"] = t.ScoreStages, ["transfer_from"] = t.TransferFrom };

    /// <inheritdoc/>
    public IReadOnlyList<TrialMetrics?> RunMany(IReadOnlyList<TrialSpec> batch, CancellationToken cancel = default)
    {
        lease.Validate();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        foreach (TrialSpec t in batch)
            if (!keys.Add(t.Key)) throw new ArgumentException($"trial batch: key {t.Key} appears twice");
        foreach (TrialSpec t in batch) Enqueue(t);
        if (_worker is null)
        {
            _worker = new TrialWorker(store, lease, Owner);
            _worker.Leased += t => Started?.Invoke(t);
            _worker.Ended += t => { if (t.Status is TrialStatus.Completed or TrialStatus.Pruned && t.LeaseOwner == _worker.Owner) _ours.Add(t.Key); };
        }
        var seen = new HashSet<string>(_ours, StringComparer.Ordinal);   // evaluated by this process before this batch
        Dictionary<string, Trial> rows;
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            rows = store.All().Where(t => keys.Contains(t.Key)).ToDictionary(t => t.Key, StringComparer.Ordinal);
            if (rows.Count == keys.Count && rows.Values.All(t => t.Status is TrialStatus.Completed or TrialStatus.Failed or TrialStatus.Pruned)) break;
            bool train = ShouldTrain?.Invoke() ?? true;
            if (!train || _worker.RunOne((t, c) => EvaluateTrial(evaluator, store, artifactRoot, t, c), cancel) is null)
                cancel.WaitHandle.WaitOne(lease.Poll);
        }
        var results = new List<TrialMetrics?>();
        foreach (TrialSpec t in batch)
        {
            Trial row = rows[t.Key];
            TrialMetrics? m = row.Status == TrialStatus.Failed || row.Metrics is null ? null : TrialMetrics.FromJson(row.Metrics);
            results.Add(m);
            Finished?.Invoke(row, m, !_ours.Contains(t.Key) || seen.Contains(t.Key));
        }
        return results;
    }

    private void Enqueue(TrialSpec t)
    {
        JsonObject genotype = t.Architecture.ToJson();
        Trial? existing = store.Find(t.Key);
        if (existing is not null && existing.Genotype.ToJsonString() != genotype.ToJsonString())
            throw new InvalidDataException($"trial {t.Key} in the store has architecture {existing.Genotype.ToJsonString()}, the search now asks for {genotype.ToJsonString()}: the run folder belongs to another search");
        if (existing is not null) return;
        string dir = ArtifactDir(store.SearchId, t.Key);
        JsonObject config = Config(t);
        // The weights are on disk before the trial is visible: a worker may lease it at once.
        if (InitialWeights?.Invoke(t) is { Count: > 0 } weights)
        {
            string path = Path.Combine(artifactRoot, dir);
            Directory.CreateDirectory(path);
            string file = Path.Combine(path, InitialWeightsFile), tmp = file + ".tmp";
            Safetensors.Save(tmp, weights.Select(kv => (kv.Key, kv.Value)));
            File.Move(tmp, file, overwrite: true);
            config["initial_weights"] = InitialWeightsFile;
        }
        store.GetOrAdd(t.Key, t.Role, genotype, config, dir);
    }

    /// <summary>Whether two trial configurations train the same way (stage scoring aside, which only adds metrics).</summary>
    private static bool SameTraining(JsonObject a, JsonObject b) =>
        a["epochs"]?.ToJsonString() == b["epochs"]?.ToJsonString() && a["transfer_from"]?.ToJsonString() == b["transfer_from"]?.ToJsonString();

    /// <summary>
    /// Evaluates a leased trial and returns the metrics to store: what the coordinator and every worker run. The
    /// architecture is read from the trial's genotype, the epochs, stage scoring and weight transfer from its
    /// configuration; files go to <c><paramref name="artifactRoot"/>/ARTIFACT_DIR</c> (a checkpoint there is resumed).
    /// A trial whose architecture and training equal a completed trial's gets that trial's metrics and weights without
    /// training (as <see cref="TrialRunner"/> does). A pruned evaluation returns its partial metrics (with
    /// <c>prune_reason</c>).
    /// </summary>
    public static JsonObject EvaluateTrial(IEvaluator evaluator, ITrialStore store, string artifactRoot, Trial trial, CancellationToken cancel)
    {
        string where = $"trial {trial.Key}";
        IArchitecture architecture = ArchitectureJson.Parse(trial.Genotype.ToJsonString(), where);
        int epochs = trial.Config["epochs"]?.GetValue<int>() ?? throw new InvalidDataException($"{where}: configuration lacks \"epochs\"");
        bool scoreStages = trial.Config["score_stages"]?.GetValue<bool>() ?? false;
        string? transferFrom = trial.Config["transfer_from"]?.GetValue<string>();
        string dir = Path.Combine(artifactRoot, trial.ArtifactDir ?? throw new InvalidDataException($"{where} has no artifact folder"));
        Directory.CreateDirectory(dir);
        Trial? twin = store.All().FirstOrDefault(t => t.Key != trial.Key && t.Status == TrialStatus.Completed && t.Metrics is not null
            && t.Genotype.ToJsonString() == trial.Genotype.ToJsonString() && SameTraining(t.Config, trial.Config)
            && (!scoreStages || t.Metrics["stage_scores"] is JsonArray));
        if (twin?.ArtifactDir is string twinDir)
        {
            foreach (string name in new[] { "model.safetensors", TrainingEvaluator.TestProbabilitiesFile })
            {
                string from = Path.Combine(artifactRoot, twinDir, name), to = Path.Combine(dir, name);
                if (File.Exists(from) && !File.Exists(to)) File.Copy(from, to);
            }
            return twin.Metrics!.DeepClone().AsObject();
        }
        if (trial.Config["initial_weights"]?.GetValue<string>() is string init && !File.Exists(Path.Combine(dir, init)))
            throw new FileNotFoundException($"{where}: its starting weights {Path.Combine(dir, init)} are missing (is the artifact root the coordinator's run folder's parent? see --artifacts)");
        TrialMetrics metrics;
        try
        {
            metrics = evaluator.Evaluate(new TrialRequest(trial.Key, trial.Role, architecture, dir, epochs, scoreStages, transferFrom), cancel);
        }
        catch (TrialPrunedException p) { metrics = p.Metrics; }
        finally
        {
            TensorPool.ReleaseUnused();   // the next trial's network is another size: drop this one's buffers
        }
        return metrics.ToJson();
    }

    /// <summary>The starting weights a trial's folder holds (<see cref="InitialWeightsFile"/>), or null: what an
    /// evaluator of leased trials gives <see cref="TrainingEvaluator.InitialWeights"/>.</summary>
    public static IReadOnlyDictionary<string, Tensor>? StoredInitialWeights(TrialRequest request)
    {
        string file = Path.Combine(request.ArtifactDir, InitialWeightsFile);
        return File.Exists(file) ? Safetensors.Load(file).ByName : null;
    }
}
