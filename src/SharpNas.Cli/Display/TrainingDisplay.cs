using System.Globalization;
using Spectre.Console;
using SharpNas.Training;

namespace SharpNas.Cli.Display;

/// <summary>Shows training progress: a live Spectre.Console progress bar on a terminal, plain lines otherwise.</summary>
internal static class TrainingDisplay
{
    public static T Run<T>(int epochs, Func<Action<TrainingProgress>, T> body)
    {
        if (Console.IsOutputRedirected || !AnsiConsole.Profile.Capabilities.Interactive)
        {
            // Plain lines for logs: every evaluated epoch, and otherwise at most one line every 15 seconds.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            TimeSpan last = TimeSpan.Zero;
            return body(p =>
            {
                if (p.Finished is { } done) { Console.WriteLine(EpochLine(done, p.Epochs, p.Remaining)); return; }
                if (clock.Elapsed - last < TimeSpan.FromSeconds(15)) return;
                last = clock.Elapsed;
                Console.WriteLine(Line(p));
            });
        }
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask task = ctx.AddTask("starting", maxValue: 1.0);
                string lastEpoch = "";
                result = body(p =>
                {
                    if (p.Finished is { } done) { lastEpoch = $" | epoch {done.Epoch}:{Evaluated(done)}"; return; }
                    task.Value = ((p.Epoch - 1) + (double)p.Batch / Math.Max(1, p.Batches)) / Math.Max(1, p.Epochs);
                    task.Description = Markup.Escape(Line(p) + lastEpoch);
                });
                task.Value = 1.0;
            });
        return result;
    }

    private static string Line(TrainingProgress p) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {p.Epoch}/{p.Epochs} batch {p.Batch}/{p.Batches} loss {p.Loss:F4} acc {p.Accuracy:P1} {p.ImagesPerSecond:F0} img/s lr {p.LearningRate:G3} ETA {Format(p.Remaining)}");

    /// <summary>One line for an evaluated epoch: its training loss and accuracy, what it scored on validation and test, its
    /// time and the time left.</summary>
    public static string EpochLine(EpochMetrics m, int epochs, TimeSpan remaining) => string.Create(CultureInfo.InvariantCulture,
        $"epoch {m.Epoch}/{epochs} done: train loss {m.TrainLoss:F4} acc {m.TrainAccuracy:P2}{Evaluated(m)} | {m.Seconds:F0} s, {m.ImagesPerSecond:F0} img/s, ETA {Format(remaining)}");

    private static string Evaluated(EpochMetrics m) =>
        (m.ValidationAccuracy is double va ? string.Create(CultureInfo.InvariantCulture, $" valid {va:P2}") : "")
        + (m.TestAccuracy is double ta ? string.Create(CultureInfo.InvariantCulture, $" test {ta:P2}") : "");

    private static string Format(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", CultureInfo.InvariantCulture);

    public static void Summary(RunMetrics m, string dir)
    {
        var table = new Table().AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        void Row(string k, string v) => table.AddRow(Markup.Escape(k), Markup.Escape(v));
        Row("architecture", m.Architecture);
        if (m.TestAccuracy is double ta) Row("test accuracy", ta.ToString("P2", CultureInfo.InvariantCulture));
        if (m.ValidationAccuracy is double va) Row("validation accuracy", va.ToString("P2", CultureInfo.InvariantCulture));
        Row("train loss", m.TrainLoss.ToString("F4", CultureInfo.InvariantCulture));
        Row("parameters", m.Parameters.ToString("N0", CultureInfo.InvariantCulture));
        Row("parameters incl. BN statistics", m.ParametersWithBnStatistics.ToString("N0", CultureInfo.InvariantCulture));
        Row("multiply-adds", (m.Macs / 1e6).ToString("F1", CultureInfo.InvariantCulture) + " M");
        Row("depth (conv + dense)", m.Depth.ToString(CultureInfo.InvariantCulture));
        Row($"memory (batch {m.MemoryBatch})", (m.MemoryBytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB");
        foreach ((string k, double v) in m.LatencyMs) Row("latency " + k.Replace('_', ' '), v.ToString("F2", CultureInfo.InvariantCulture) + " ms");
        Row("training time", TimeSpan.FromSeconds(m.TrainSeconds).ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture));
        Row("energy", (m.EnergyKwh * 1000).ToString("F2", CultureInfo.InvariantCulture) + " Wh");
        Row("CO2eq", (m.Co2Kg * 1000).ToString("F2", CultureInfo.InvariantCulture) + " g");
        AnsiConsole.Write(table);
        Console.WriteLine($"wrote {Path.Combine(dir, "metrics.json")}, model.safetensors, arch.json");
    }
}
