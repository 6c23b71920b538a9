using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Spaces.StageWise;

namespace SharpNas.Search.Strategies.StageWise;

/// <summary>One row of the results table: a candidate, a uniform baseline, or the final network.</summary>
public sealed record StageWiseRow(string Name, string Role, int Iteration, StageGenotype Genotype, TrialMetrics Metrics);

/// <summary>The search's results in the paper's form (Table III): candidates and uniform-depth baselines with depth,
/// parameters, FLOPs, memory, inference time, CO₂eq and accuracy; plus the candidates' ensemble.</summary>
public sealed record StageWiseReport(IReadOnlyList<StageWiseRow> Rows, int Iterations, int TrialsTrained, bool Converged,
    double? EnsembleAccuracy, long EnsembleParameters, IReadOnlyList<StageWiseStep> Steps)
{
    /// <summary><c>results.json</c>: iterations, trials_trained, candidates, baselines, ensemble, every step's stage scores.</summary>
    public JsonObject ToJson()
    {
        JsonObject Row(StageWiseRow r) => new()
        {
            ["name"] = r.Name,
            ["role"] = r.Role,
            ["iteration"] = r.Iteration,
            ["module"] = StageGenotype.ModuleName(r.Genotype.Module),
            ["stage_depths"] = new JsonArray(r.Genotype.Depths.Select(d => (JsonNode)d).ToArray()),
            ["params"] = r.Metrics.Parameters,
            ["params_with_bn_statistics"] = r.Metrics.ParametersWithBnStatistics,
            ["flops"] = r.Metrics.Macs,
            ["depth"] = r.Metrics.Depth,
            ["memory_bytes"] = r.Metrics.MemoryBytes,
            ["latency_ms"] = r.Metrics.LatencyMs,
            ["co2_kg"] = r.Metrics.Co2Kg,
            ["train_seconds"] = r.Metrics.TrainSeconds,
            ["valid_accuracy"] = r.Metrics.ValidationAccuracy,
            ["test_accuracy"] = r.Metrics.TestAccuracy,
        };
        return new JsonObject
        {
            ["iterations"] = Iterations,
            ["trials_trained"] = Steps.Count + Rows.Count(r => r.Role is "baseline" or "final"),
            ["trials_trained_this_run"] = TrialsTrained,
            ["converged"] = Converged,
            ["candidates"] = new JsonArray(Rows.Where(r => r.Role is "initial" or "candidate").Select(r => (JsonNode)Row(r)).ToArray()),
            ["baselines"] = new JsonArray(Rows.Where(r => r.Role == "baseline").Select(r => (JsonNode)Row(r)).ToArray()),
            ["final"] = Rows.FirstOrDefault(r => r.Role == "final") is { } f ? Row(f) : null,
            ["ensemble"] = EnsembleAccuracy is double a ? new JsonObject { ["test_accuracy"] = a, ["params"] = EnsembleParameters } : null,
            ["steps"] = new JsonArray(Steps.Select(s => (JsonNode)new JsonObject
            {
                ["iteration"] = s.Iteration,
                ["role"] = s.Role,
                ["stage_depths"] = new JsonArray(s.Genotype.Depths.Select(d => (JsonNode)d).ToArray()),
                ["stage_scores"] = new JsonArray((s.Metrics.StageScores ?? []).Select(v => (JsonNode)v).ToArray()),
                ["valid_accuracy"] = s.Metrics.ValidationAccuracy,
            }).ToArray()),
        };
    }

    /// <summary>The table's columns, for the terminal and Markdown.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["network", "role", "stage depths", "depth", "params", "FLOPs (M)", "memory (MiB)", "latency (ms)", "CO2eq (g)", "valid acc", "test acc"];

    /// <summary>The cells of a row, formatted.</summary>
    public static IReadOnlyList<string> Cells(StageWiseRow r) =>
    [
        r.Name, r.Role, "[" + string.Join(", ", r.Genotype.Depths) + "]", r.Metrics.Depth.ToString(CultureInfo.InvariantCulture),
        r.Metrics.Parameters.ToString("N0", CultureInfo.InvariantCulture), (r.Metrics.Macs / 1e6).ToString("F1", CultureInfo.InvariantCulture),
        (r.Metrics.MemoryBytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture),
        r.Metrics.LatencyMs?.ToString("F2", CultureInfo.InvariantCulture) ?? "–",
        (r.Metrics.Co2Kg * 1000).ToString("F2", CultureInfo.InvariantCulture),
        Percent(r.Metrics.ValidationAccuracy), Percent(r.Metrics.TestAccuracy),
    ];

    private static string Percent(double? v) => v is double d ? d.ToString("P2", CultureInfo.InvariantCulture) : "–";

    /// <summary><c>results.md</c>.</summary>
    public string ToMarkdown(string title)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"# {title}").AppendLine();
        sb.AppendLine("| " + string.Join(" | ", Columns) + " |");
        sb.AppendLine("|" + string.Concat(Enumerable.Repeat("---|", Columns.Count)));
        foreach (StageWiseRow r in Rows) sb.AppendLine("| " + string.Join(" | ", Cells(r)) + " |");
        sb.AppendLine();
        if (EnsembleAccuracy is double e)
            sb.AppendLine(CultureInfo.InvariantCulture, $"Ensemble of the candidates (averaged softmax): test accuracy {e:P2}, {EnsembleParameters:N0} parameters in total.").AppendLine();
        sb.AppendLine("Stage scores per trained network:").AppendLine();
        foreach (StageWiseStep s in Steps)
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"- iteration {s.Iteration} {s.Role} [{string.Join(", ", s.Genotype.Depths)}]: [{string.Join(", ", (s.Metrics.StageScores ?? []).Select(v => v.ToString("F4", CultureInfo.InvariantCulture)))}]");
        if (Converged) sb.AppendLine().AppendLine("At some iteration no stage grew (converged).");
        return sb.ToString();
    }

    /// <summary>Writes <c>results.json</c> and <c>results.md</c> into <paramref name="dir"/>.</summary>
    public void Write(string dir, string title)
    {
        Training.TrainingRun.WriteAtomically(Path.Combine(dir, "results.json"), ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        Training.TrainingRun.WriteAtomically(Path.Combine(dir, "results.md"), ToMarkdown(title));
    }
}
