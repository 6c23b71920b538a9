using System.Globalization;
using System.Text.Json;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Engine.Modules;
using SharpNas.Engine.Optim;

namespace SharpNas.Training.Checkpoints;

/// <summary>
/// A resumable training state in one safetensors file: the model's state dict under <c>model.</c>, the optimiser's
/// state under <c>optim.</c>, and in the metadata the position (epoch in progress, batches done in it), the
/// optimiser step count, the partial sums of the epoch in progress, the completed epochs' metrics, and a
/// fingerprint of what was trained (architecture, options, data) so that a checkpoint of another run is refused.
/// Written to a temporary file and renamed, so a crash never leaves a half-written checkpoint.
/// </summary>
public sealed record Checkpoint(int Epoch, int BatchesDone, long StepCount, double PartialLossSum, long PartialCorrect, long PartialSeen,
    IReadOnlyList<EpochMetrics> History, string Fingerprint, double ElapsedSeconds)
{
    /// <summary>The file name inside a run folder.</summary>
    public const string FileName = "checkpoint.safetensors";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    /// <summary>Writes the checkpoint atomically.</summary>
    public void Save(string path, Module model, Optimizer optimizer)
    {
        var tensors = new List<(string, Tensor)>();
        foreach ((string name, Tensor t) in model.StateDict()) tensors.Add(("model." + name, t));
        foreach ((string name, float[] values) in optimizer.State()) tensors.Add(("optim." + name, Tensor.FromArray(values, values.Length)));
        var meta = new Dictionary<string, string>
        {
            ["format"] = "sharpnas-checkpoint-1",
            ["epoch"] = Epoch.ToString(CultureInfo.InvariantCulture),
            ["batches_done"] = BatchesDone.ToString(CultureInfo.InvariantCulture),
            ["step_count"] = StepCount.ToString(CultureInfo.InvariantCulture),
            ["partial_loss_sum"] = PartialLossSum.ToString("R", CultureInfo.InvariantCulture),
            ["partial_correct"] = PartialCorrect.ToString(CultureInfo.InvariantCulture),
            ["partial_seen"] = PartialSeen.ToString(CultureInfo.InvariantCulture),
            ["history"] = JsonSerializer.Serialize(History, Json),
            ["fingerprint"] = Fingerprint,
            ["elapsed_seconds"] = ElapsedSeconds.ToString("R", CultureInfo.InvariantCulture),
        };
        Safetensors.Save(path, tensors, meta);
    }

    /// <summary>Reads a checkpoint, checks it belongs to this run (<paramref name="fingerprint"/>), and restores the
    /// model and optimiser from it.</summary>
    public static Checkpoint Restore(string path, string fingerprint, Module model, Optimizer optimizer)
    {
        SafetensorsFile file = Safetensors.Load(path);
        IReadOnlyDictionary<string, string> m = file.Metadata;
        if (!m.TryGetValue("format", out string? format) || format != "sharpnas-checkpoint-1")
            throw new InvalidDataException($"{path}: not a SharpNas checkpoint (metadata \"format\" is {(format is null ? "absent" : "\"" + format + "\"")})");
        string saved = m.GetValueOrDefault("fingerprint", "");
        if (saved != fingerprint)
            throw new InvalidDataException($"{path}: checkpoint of another run (saved for {saved}; this run is {fingerprint}); use another --out folder or delete it");
        var modelState = new Dictionary<string, Tensor>();
        var optimState = new Dictionary<string, float[]>();
        foreach ((string name, Tensor t) in file.Tensors)
        {
            if (name.StartsWith("model.", StringComparison.Ordinal)) modelState[name[6..]] = t;
            else if (name.StartsWith("optim.", StringComparison.Ordinal)) optimState[name[6..]] = t.ToArray();
        }
        var cp = new Checkpoint(
            Int(m, "epoch", path), Int(m, "batches_done", path), Long(m, "step_count", path),
            double.Parse(m["partial_loss_sum"], CultureInfo.InvariantCulture), Long(m, "partial_correct", path), Long(m, "partial_seen", path),
            JsonSerializer.Deserialize<List<EpochMetrics>>(m["history"], Json) ?? [], saved,
            double.Parse(m["elapsed_seconds"], CultureInfo.InvariantCulture));
        model.LoadStateDict(modelState);
        optimizer.LoadState(optimState, cp.StepCount);
        return cp;
    }

    private static int Int(IReadOnlyDictionary<string, string> m, string key, string path) => (int)Long(m, key, path);

    private static long Long(IReadOnlyDictionary<string, string> m, string key, string path) =>
        m.TryGetValue(key, out string? v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long r)
            ? r : throw new InvalidDataException($"{path}: checkpoint metadata \"{key}\" is missing or not a number");
}
