using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Training.Reports;

namespace SharpNas.Search.Reports;

/// <summary>
/// The report of a <c>sharpnas bench nb201</c> output folder (<c>results.json</c> with <c>"benchmark": "nas-bench-201"</c>):
/// the protocol and command, a table of the strategies, the mean test accuracy of the best cell so far against the
/// simulated training time per strategy, the final test accuracy of every run, and a table of every run's pick.
/// NAS-Bench-201 accuracies are percentages.
/// </summary>
public static class BenchRunReport
{
    /// <summary>True when <paramref name="runDir"/> holds the results of <c>sharpnas bench nb201</c>.</summary>
    public static bool IsBenchFolder(string runDir)
    {
        string path = Path.Combine(runDir, "results.json");
        if (!File.Exists(path)) return false;
        return ReadResults(path)["benchmark"]?.GetValue<string>() == "nas-bench-201";
    }

    /// <summary>The page for the bench results in <paramref name="runDir"/>.</summary>
    public static HtmlReport Build(string runDir)
    {
        string path = Path.Combine(runDir, "results.json");
        JsonObject results = ReadResults(path);
        JsonObject[] strategies = (results["strategies"] as JsonArray ?? throw new InvalidDataException($"{path}: field \"strategies\" is missing"))
            .OfType<JsonObject>().ToArray();
        if (strategies.Length == 0) throw new InvalidDataException($"{path}: no strategy results; nothing to report");
        string name = Path.GetFileName(Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar));
        var page = new HtmlReport($"SharpNas NAS-Bench-201 benchmark: {name}");
        JsonObject? protocol = results["protocol"] as JsonObject;
        page.Section("Run").Facts(
        [
            ("command", Command(runDir)),
            ("data", "NAS-Bench-201 table (" + (protocol?["reward_column"]?.GetValue<string>() ?? "?") + " rewarded, " +
                (protocol?["test_column"]?.GetValue<string>() ?? "?") + " reported)"),
            ("seed", results["settings"]?["seed"]?.GetValue<string>()),
            ("budget per search", Budget(protocol)),
            ("runs per strategy", results["settings"]?["runs"]?.ToJsonString()),
            ("wall time", ReportCells.Duration(strategies.Sum(s => s["wall_seconds"]?.GetValue<double>() ?? 0))),
            ("machine", $"{Environment.ProcessorCount} cores (where the report was written; the table lookups take no training)"),
        ]);

        page.Section("Strategies").Table("strategies", ["strategy", "runs", "test acc (%)", "paper", "valid acc (%)", "queries", "wall time"],
            strategies.Select(s => (IReadOnlyList<string>)
            [
                s["strategy"]?.GetValue<string>() ?? "?", s["runs"]?.ToJsonString() ?? "–",
                $"{ReportCells.Number(s["test_acc_mean"]?.GetValue<double>(), "F2")} ± {ReportCells.Number(s["test_acc_std"]?.GetValue<double>(), "F2")}",
                ReportCells.Number(s["paper_test_acc"]?.GetValue<double?>(), "F2"), ReportCells.Number(s["valid_acc_mean"]?.GetValue<double>(), "F2"),
                ReportCells.Number(s["queries_mean"]?.GetValue<double>(), "F1"), ReportCells.Duration(s["wall_seconds"]?.GetValue<double>()),
            ]), 0);

        var curves = new SvgChart("Mean test accuracy of the best cell so far", "simulated training time (s)", "test accuracy (%)");
        var finals = new SvgChart("Test accuracy of each run's pick", "run", "test accuracy (%)") { IntegerX = true };
        foreach (JsonObject s in strategies)
        {
            string strategy = s["strategy"]?.GetValue<string>() ?? "?";
            curves.Add(new ChartSeries(strategy, (s["curve"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(c => (c["seconds"]!.GetValue<double>(), c["test_acc_mean"]!.GetValue<double>())).ToArray(), SeriesStyle.Line));
            JsonObject[] picks = Picks(s);
            finals.Add(new ChartSeries(strategy, picks.Select(p => ((double)p["run"]!.GetValue<int>(), p["test_acc"]!.GetValue<double>())).ToArray(),
                SeriesStyle.Markers, picks.Select(p => $"{strategy} run {p["run"]}: {p["arch"]?.GetValue<string>()}, test {p["test_acc"]}%").ToArray()));
        }
        page.Section("Search curves").Charts(curves, finals);

        page.Section("Every run").Table("trials", ["strategy", "run", "architecture", "valid acc (%)", "test acc (%)", "queries", "simulated time"],
            strategies.SelectMany(s => Picks(s).Select(p => (IReadOnlyList<string>)
            [
                s["strategy"]?.GetValue<string>() ?? "?", p["run"]!.ToJsonString(), p["arch"]?.GetValue<string>() ?? "",
                ReportCells.Number(p["valid_acc"]?.GetValue<double>(), "F2"), ReportCells.Number(p["test_acc"]?.GetValue<double>(), "F2"),
                p["queries"]?.ToJsonString() ?? "–", ReportCells.Duration(p["simulated_seconds"]?.GetValue<double>()),
            ])), 0, 2);
        return page;
    }

    private static JsonObject[] Picks(JsonObject strategy) => (strategy["picks"] as JsonArray ?? []).OfType<JsonObject>().ToArray();

    private static string? Budget(JsonObject? protocol)
    {
        double? seconds = protocol?["budget_seconds"]?.GetValue<double?>();
        int? queries = protocol?["budget_queries"]?.GetValue<int?>();
        var parts = new List<string>();
        if (seconds is double s) parts.Add(s.ToString("0", CultureInfo.InvariantCulture) + " simulated s");
        if (queries is int q) parts.Add(q.ToString(CultureInfo.InvariantCulture) + " queries");
        return parts.Count == 0 ? null : string.Join(" or ", parts);
    }

    /// <summary>The command line, as <c>results.md</c> records it (a line in backticks).</summary>
    private static string? Command(string runDir)
    {
        string md = Path.Combine(runDir, "results.md");
        if (!File.Exists(md)) return null;
        string? line = File.ReadLines(md).FirstOrDefault(l => l.StartsWith("`sharpnas ", StringComparison.Ordinal));
        return line?.Trim('`');
    }

    private static JsonObject ReadResults(string path)
    {
        try { return JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new InvalidDataException($"{path}: empty results file"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{path}: not a results file ({e.Message})"); }
    }
}
