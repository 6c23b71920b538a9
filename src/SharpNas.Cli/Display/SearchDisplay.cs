using System.Globalization;
using Spectre.Console;
using SharpNas.Search.Evaluators;
using SharpNas.Training;

namespace SharpNas.Cli.Display;

/// <summary>Shows a search as it runs: each trial as it starts and ends, its training progress, and the strategy's
/// decisions. A live progress display on a terminal; plain lines otherwise.</summary>
internal sealed class SearchDisplay
{
    private readonly bool _interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
    private ProgressContext? _ctx;
    private ProgressTask? _task;
    private int _lastEpoch;

    public T Run<T>(Func<T> body)
    {
        if (!_interactive) return body();
        T result = default!;
        AnsiConsole.Progress().AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx => { _ctx = ctx; result = body(); });
        _ctx = null;
        return result;
    }

    public void TrialStarted(string key, string description)
    {
        _lastEpoch = 0;
        Line($"trial {key}: training {description}");
        if (_ctx is not null)
        {
            if (_task is not null) _task.StopTask();
            _task = _ctx.AddTask(Markup.Escape(key), maxValue: 1.0);
        }
    }

    public void Training(TrainingProgress p)
    {
        if (_task is not null)
        {
            _task.Value = ((p.Epoch - 1) + (double)p.Batch / Math.Max(1, p.Batches)) / Math.Max(1, p.Epochs);
            _task.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"epoch {p.Epoch}/{p.Epochs} loss {p.Loss:F3} acc {p.Accuracy:P1} {p.ImagesPerSecond:F0} img/s"));
        }
        else if (p.Finished is { } done && p.Epoch != _lastEpoch)
        {
            _lastEpoch = p.Epoch;
            Console.WriteLine("  " + TrainingDisplay.EpochLine(done, p.Epochs, p.Remaining));
        }
    }

    public void TrialFinished(string key, TrialMetrics m, bool fromStore)
    {
        if (_task is not null) { _task.Value = 1.0; _task.StopTask(); _task = null; }
        string scores = m.StageScores is null ? "" : " stage scores [" + string.Join(", ", m.StageScores.Select(s => s.ToString("F4", CultureInfo.InvariantCulture))) + "]";
        Line(string.Create(CultureInfo.InvariantCulture,
            $"trial {key}{(fromStore ? " (already done)" : "")}: valid {Pct(m.ValidationAccuracy)} test {Pct(m.TestAccuracy)} params {m.Parameters:N0} FLOPs {m.Macs / 1e6:F1}M{scores}"));
    }

    public void Line(string text)
    {
        if (_interactive) AnsiConsole.MarkupLine(Markup.Escape(text));
        else Console.WriteLine(text);
    }

    private static string Pct(double? v) => v is double d ? d.ToString("P2", CultureInfo.InvariantCulture) : "–";

    /// <summary>A table with the given columns and rows.</summary>
    public static void Table(IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<string>> rows)
    {
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;   // a log file has no width: don't wrap cells
        var table = new Table();
        foreach (string c in columns) table.AddColumn(Markup.Escape(c));
        foreach (var r in rows) table.AddRow(r.Select(Markup.Escape).ToArray());
        AnsiConsole.Write(table);
    }
}
