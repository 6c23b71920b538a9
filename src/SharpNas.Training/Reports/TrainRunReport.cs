using System.Globalization;
using System.Text.Json;

namespace SharpNas.Training.Reports;

/// <summary>
/// The report of a train run folder (<c>metrics.json</c>, <c>arch.json</c>): what was trained on what, on which
/// machine and for how long; its accuracy and cost; loss and accuracy per epoch.
/// </summary>
public static class TrainRunReport
{
    /// <summary>The file name the run writes its report under.</summary>
    public const string FileName = "report.html";

    /// <summary>Reads <c>metrics.json</c> of <paramref name="runDir"/>; an error names the file when it is missing or unreadable.</summary>
    public static RunMetrics ReadMetrics(string runDir)
    {
        string path = Path.Combine(runDir, "metrics.json");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no metrics.json; the run has not finished", path);
        try
        {
            return JsonSerializer.Deserialize<RunMetrics>(File.ReadAllText(path), RunMetrics.JsonOptions)
                ?? throw new InvalidDataException($"{path}: empty metrics file");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: not a metrics file ({e.Message})");
        }
    }

    /// <summary>The page for a finished run; <paramref name="command"/> is shown when known.</summary>
    public static HtmlReport Build(RunMetrics m, string runName, string? command = null)
    {
        var page = new HtmlReport($"SharpNas training run: {runName}");
        page.Section("Run").Facts(
        [
            ("command", command),
            ("architecture", m.Architecture),
            ("data", m.Data),
            ("seed", m.Seed.ToString(CultureInfo.InvariantCulture)),
            ("epochs", m.Epochs.ToString(CultureInfo.InvariantCulture)),
            ("wall time", ReportCells.Duration(m.TrainSeconds)),
            ("machine", $"{m.Threads} threads, {m.Kernels} kernels"),
        ]);
        page.Section("Result").Table("trials", Columns, [Row(m, "train", "completed")], 0, 1, 2);
        page.Section("Training curves").Charts(LossChart(m.History), AccuracyChart(m.History));
        return page;
    }

    /// <summary>Writes the report of <paramref name="runDir"/> to <paramref name="outFile"/> (default <c>RUN/report.html</c>); returns the path.
    /// <paramref name="command"/> is shown when known.</summary>
    public static string Write(string runDir, string? outFile = null, string? command = null)
    {
        RunMetrics m = ReadMetrics(runDir);
        string path = outFile ?? Path.Combine(runDir, FileName);
        Build(m, Path.GetFileName(Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar)), command).Write(path);
        return path;
    }

    /// <summary>Columns of every report's trial table.</summary>
    public static IReadOnlyList<string> Columns { get; } =
        ["architecture", "role", "status", "valid acc", "test acc", "params", "FLOPs (M)", "memory (MiB)", "latency (ms)", "CO₂eq (g)", "wall time"];

    /// <summary>A train run as a row of the trial table.</summary>
    public static IReadOnlyList<string> Row(RunMetrics m, string role, string status) =>
    [
        m.Architecture, role, status, ReportCells.Accuracy(m.ValidationAccuracy), ReportCells.Accuracy(m.TestAccuracy),
        ReportCells.Count(m.Parameters), ReportCells.Millions(m.Macs), ReportCells.MiB(m.MemoryBytes),
        ReportCells.Number(m.LatencyMs.TryGetValue("batch_1", out double l) ? l : null, "F2"),
        ReportCells.Grams(m.Co2Kg), ReportCells.Duration(m.TrainSeconds),
    ];

    /// <summary>Train, validation and test loss per epoch.</summary>
    public static SvgChart LossChart(IReadOnlyList<EpochMetrics> history)
    {
        var chart = new SvgChart("Loss per epoch", "epoch", "cross-entropy loss") { IntegerX = true };
        chart.Add(new ChartSeries("train", history.Select(e => ((double)e.Epoch, e.TrainLoss)).ToArray(), SeriesStyle.Line));
        AddIfAny(chart, "validation", history, e => e.ValidationLoss);
        AddIfAny(chart, "test", history, e => e.TestLoss);
        return chart;
    }

    /// <summary>Train, validation and test accuracy per epoch.</summary>
    public static SvgChart AccuracyChart(IReadOnlyList<EpochMetrics> history)
    {
        var chart = new SvgChart("Accuracy per epoch", "epoch", "top-1 accuracy") { YFormat = SvgChart.Percent, IntegerX = true };
        chart.Add(new ChartSeries("train", history.Select(e => ((double)e.Epoch, e.TrainAccuracy)).ToArray(), SeriesStyle.Line));
        AddIfAny(chart, "validation", history, e => e.ValidationAccuracy);
        AddIfAny(chart, "test", history, e => e.TestAccuracy);
        return chart;
    }

    private static void AddIfAny(SvgChart chart, string name, IReadOnlyList<EpochMetrics> history, Func<EpochMetrics, double?> value)
    {
        var points = history.Where(e => value(e) is not null).Select(e => ((double)e.Epoch, value(e)!.Value)).ToArray();
        if (points.Length > 0) chart.Add(new ChartSeries(name, points, SeriesStyle.Line));
    }
}
