using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using SharpNas.Search.Evaluators;
using SharpNas.Search.Genotypes;
using SharpNas.Search.Spaces.NasNet;
using SharpNas.Search.Trials;
using SharpNas.Training;
using SharpNas.Training.Reports;

namespace SharpNas.Search.Reports;

/// <summary>
/// The report of a search run folder: every trial of its store (<c>trials.db</c>, or the store <c>store.json</c> names,
/// e.g. PostgreSQL: <see cref="RunFolderStore"/>) in a table; accuracy against FLOPs and against
/// parameters with the Pareto front and the uniform baselines; the search curve against trials and wall time; and from
/// <c>results.json</c>: for stage-wise, the depth of each stage per iteration and the stage scores; for NASNet, the best
/// normal and reduction cells as graphs; for EPNAS, the top models and their constraint usage against the bounds.
/// </summary>
public static class SearchRunReport
{
    /// <summary>A trial as the report sees it.</summary>
    private sealed record Row(Trial Trial, string Architecture, TrialMetrics? Metrics)
    {
        public bool Completed => Trial.Status == TrialStatus.Completed && Metrics is not null;
        public bool Baseline => Trial.Role == "baseline";
    }

    /// <summary>The page for the search in <paramref name="runDir"/>; <paramref name="command"/> is shown when known. The
    /// trials are read from <paramref name="store"/> when given (the search's own, still open), else from the run
    /// folder's store.</summary>
    public static HtmlReport Build(string runDir, string? command = null, ITrialStore? store = null)
    {
        List<Row> rows;
        string where;
        using (ITrialStore? opened = store is null ? RunFolderStore.Open(runDir) : null)
        {
            ITrialStore source = store ?? opened ?? throw new FileNotFoundException(
                $"{Path.Combine(runDir, RunFolderStore.DefaultFile)}: no trial store; not a search run folder", Path.Combine(runDir, RunFolderStore.DefaultFile));
            where = source.Location;
            rows = source.All().Select(t => new Row(t, Describe(t), t.Metrics is { } m ? TrialMetrics.FromJson(m) : null)).ToList();
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (rows.Count == 0) throw new InvalidDataException($"{where}: the search holds no trials yet; nothing to report");
        JsonObject? results = ReadResults(runDir);
        RunMetrics? sample = rows.Select(r => TrialRunMetrics(runDir, r.Trial)).FirstOrDefault(m => m is not null);

        bool stageWise = results?["steps"] is JsonArray;
        NasNetGenotype? bestCells = NasNetBest(runDir, results);
        bool epnas = results?["constraints"] is JsonObject && results["top"] is JsonArray;
        string name = Path.GetFileName(Path.GetFullPath(runDir).TrimEnd(Path.DirectorySeparatorChar));
        string kind = stageWise ? "stage-wise search" : bestCells is not null ? "NASNet search" : epnas ? "EPNAS search" : "search";
        var page = new HtmlReport($"SharpNas {kind}: {name}");
        command ??= results?["command"]?.GetValue<string>();

        List<Row> done = rows.Where(r => r.Completed).ToList();
        double totalSeconds = done.Sum(r => r.Metrics!.TrainSeconds);
        page.Section("Run").Facts(
        [
            ("command", command),
            ("data", sample?.Data),
            ("seed", sample?.Seed.ToString(CultureInfo.InvariantCulture)),
            ("strategy", results?["strategy"]?.GetValue<string>()),
            ("trials", $"{rows.Count} ({done.Count} completed, {rows.Count(r => r.Trial.Status == TrialStatus.Failed)} failed)"),
            ("iterations", results?["iterations"]?.ToJsonString()),
            ("converged", results?["converged"]?.ToJsonString()),
            ("ensemble of candidates", results?["ensemble"] is JsonObject e
                ? $"test accuracy {ReportCells.Accuracy(e["test_accuracy"]?.GetValue<double>())}, {ReportCells.Count(e["params"]?.GetValue<long>())} parameters" : null),
            ("wall time", $"{ReportCells.Duration(totalSeconds)} of training" + (rows.Count > 0
                ? $"; {ReportCells.Duration((rows.Max(r => r.Trial.UpdatedUtc) - rows.Min(r => r.Trial.CreatedUtc)).TotalSeconds)} from first to last trial" : "")),
            ("machine", sample is null ? null : $"{sample.Threads} threads, {sample.Kernels} kernels"),
        ]);

        page.Section("Trials").Table("trials", TrainRunReport.Columns, rows.Select(Cells), 0, 1, 2);

        bool test = done.Count > 0 && done.All(r => r.Metrics!.TestAccuracy is not null);
        string accName = test ? "test accuracy" : "validation accuracy";
        double Acc(Row r) => (test ? r.Metrics!.TestAccuracy : r.Metrics!.ValidationAccuracy) ?? double.NaN;
        page.Section($"Accuracy against cost ({accName})").Charts(
            CostChart($"{accName} vs FLOPs", "FLOPs (multiply-adds)", done, r => r.Metrics!.Macs, Acc),
            CostChart($"{accName} vs parameters", "parameters", done, r => r.Metrics!.Parameters, Acc));

        page.Section("Search curve").Charts(SearchCurve(done), SearchCurveOverTime(done));

        if (stageWise) StageWiseSections(page, results!);
        if (bestCells is not null) NasNetSections(page, bestCells, results);
        if (epnas) EpnasReportSections.Add(page, results!, rows.ToDictionary(r => r.Trial.Key, r => r.Architecture));
        return page;
    }

    /// <summary>Writes the report of <paramref name="runDir"/> (a search or train run folder) to <paramref name="outFile"/>
    /// (default <c>RUN/report.html</c>); returns the path written. A search's trials are read from <paramref name="store"/>
    /// when given, else from the run folder's store.</summary>
    public static string Write(string runDir, string? outFile = null, string? command = null, ITrialStore? store = null)
    {
        if (!Directory.Exists(runDir)) throw new DirectoryNotFoundException($"run folder {runDir} does not exist");
        string path = outFile ?? Path.Combine(runDir, TrainRunReport.FileName);
        try
        {
            if (store is not null || RunFolderStore.Exists(runDir)) Build(runDir, command, store).Write(path);
            else if (File.Exists(Path.Combine(runDir, "metrics.json"))) TrainRunReport.Write(runDir, path);
            else if (BenchRunReport.IsBenchFolder(runDir)) BenchRunReport.Build(runDir).Write(path);
            else throw new FileNotFoundException($"{runDir}: found no results: neither trials.db or store.json (a search), metrics.json (a finished train run) nor results.json of sharpnas bench nb201");
        }
        catch (InvalidOperationException e)   // a JSON field of the wrong type (System.Text.Json.Nodes)
        {
            throw new InvalidDataException($"{runDir}: a result file does not have the expected shape ({e.Message})");
        }
        return path;
    }

    private static string Describe(Trial t)
    {
        // Discrete searches (NASNet) store the sampled choices as the genotype and the built architecture in the metrics.
        JsonNode architecture = t.Genotype["kind"]?.GetValue<string>() == "discrete" && t.Metrics?["architecture"] is JsonObject a ? a : t.Genotype;
        try { return ArchitectureJson.Parse(architecture.ToJsonString(), t.Key).Describe(); }
        catch (GenotypeException) { return t.Genotype["key"]?.GetValue<string>() ?? t.Genotype.ToJsonString(); }
    }

    private static IReadOnlyList<string> Cells(Row r)
    {
        TrialMetrics? m = r.Metrics;
        return
        [
            r.Architecture, r.Trial.Role, r.Trial.Status.ToString().ToLowerInvariant(),
            ReportCells.Accuracy(m?.ValidationAccuracy), ReportCells.Accuracy(m?.TestAccuracy),
            ReportCells.Count(m?.Parameters), ReportCells.Millions(m?.Macs), ReportCells.MiB(m?.MemoryBytes),
            ReportCells.Number(m?.LatencyMs, "F2"), ReportCells.Grams(m?.Co2Kg), ReportCells.Duration(m?.TrainSeconds),
        ];
    }

    private static SvgChart CostChart(string title, string xLabel, List<Row> done, Func<Row, double> cost, Func<Row, double> acc)
    {
        var chart = new SvgChart(title, xLabel, "accuracy") { YFormat = SvgChart.Percent };
        Row[] searched = done.Where(r => !r.Baseline).ToArray(), baselines = done.Where(r => r.Baseline).ToArray();
        var all = done.Select(r => (cost(r), acc(r))).ToArray();
        IReadOnlyList<int> front = ParetoFront.Of(all);
        chart.Add(new ChartSeries("Pareto front", front.Select(i => all[i]).ToArray(), SeriesStyle.Steps, front.Select(i => Tip(done[i], "accuracy", acc(done[i]))).ToArray()));
        chart.Add(new ChartSeries("searched", searched.Select(r => (cost(r), acc(r))).ToArray(), SeriesStyle.Markers, searched.Select(r => Tip(r, "accuracy", acc(r))).ToArray()));
        if (baselines.Length > 0)
            chart.Add(new ChartSeries("uniform baselines", baselines.Select(r => (cost(r), acc(r))).ToArray(), SeriesStyle.Diamonds, baselines.Select(r => Tip(r, "accuracy", acc(r))).ToArray()));
        return chart;
    }

    private static string Tip(Row r, string accName, double acc) =>
        $"{r.Trial.Key} ({r.Trial.Role}): {r.Architecture}; {accName} {SvgChart.Percent(acc)}, {ReportCells.Count(r.Metrics?.Parameters)} params, {ReportCells.Millions(r.Metrics?.Macs)} MFLOPs";

    /// <summary>Best validation accuracy so far against the number of trials, over the searched (non-baseline) trials.</summary>
    private static SvgChart SearchCurve(List<Row> done)
    {
        var chart = new SvgChart("Best validation accuracy so far", "trials evaluated", "validation accuracy") { YFormat = SvgChart.Percent, IntegerX = true };
        Row[] searched = done.Where(r => !r.Baseline).ToArray();
        var each = new List<(double, double)>();
        var best = new List<(double, double)>();
        double b = double.NegativeInfinity;
        for (int i = 0; i < searched.Length; i++)
        {
            double v = searched[i].Metrics!.ValidationAccuracy ?? searched[i].Metrics!.TestAccuracy ?? double.NaN;
            each.Add((i + 1, v));
            if (v > b) b = v;
            if (double.IsFinite(b)) best.Add((i + 1, b));
        }
        chart.Add(new ChartSeries("best so far", best, SeriesStyle.Steps));
        chart.Add(new ChartSeries("each trial", each, SeriesStyle.Markers, searched.Select(r => Tip(r, "validation accuracy", r.Metrics!.ValidationAccuracy ?? double.NaN)).ToArray()));
        return chart;
    }

    /// <summary>Best validation accuracy so far against the wall time since the first trial started.</summary>
    private static SvgChart SearchCurveOverTime(List<Row> done)
    {
        var chart = new SvgChart("Best validation accuracy so far, against wall time", "minutes since the search started", "validation accuracy") { YFormat = SvgChart.Percent };
        Row[] searched = done.Where(r => !r.Baseline).OrderBy(r => r.Trial.UpdatedUtc).ToArray();
        if (searched.Length == 0) return chart;
        DateTime start = done.Min(r => r.Trial.CreatedUtc);
        var best = new List<(double, double)>();
        var labels = new List<string>();
        double b = double.NegativeInfinity;
        foreach (Row r in searched)
        {
            double v = r.Metrics!.ValidationAccuracy ?? r.Metrics!.TestAccuracy ?? double.NaN;
            if (v > b) b = v;
            if (!double.IsFinite(b)) continue;
            best.Add(((r.Trial.UpdatedUtc - start).TotalMinutes, b));
            labels.Add($"{r.Trial.Key} finished after {ReportCells.Duration((r.Trial.UpdatedUtc - start).TotalSeconds)}; best so far {SvgChart.Percent(b)}");
        }
        chart.Add(new ChartSeries("best so far", best, SeriesStyle.Steps, labels));
        return chart;
    }

    /// <summary>The best cells of a NASNet search: from <c>results.json</c> (<c>best.genotype</c>) or <c>best-arch.json</c>.</summary>
    private static NasNetGenotype? NasNetBest(string runDir, JsonObject? results)
    {
        JsonObject? genotype = results?["best"]?["genotype"] as JsonObject;
        string source = Path.Combine(runDir, "results.json");
        string bestArch = Path.Combine(runDir, "best-arch.json");
        if (genotype is null && File.Exists(bestArch)) return ArchitectureJson.Load(bestArch) as NasNetGenotype;
        return genotype is null ? null : ArchitectureJson.Parse(genotype.ToJsonString(), source + ": best.genotype") as NasNetGenotype;
    }

    private static void NasNetSections(HtmlReport page, NasNetGenotype best, JsonObject? results)
    {
        JsonObject? b = results?["best"] as JsonObject;
        page.Section("Best cells");
        page.Facts(
        [
            ("trial", b?["key"]?.GetValue<string>()),
            ("network", best.Describe()),
            ("validation accuracy", b?["valid_accuracy"] is JsonNode va ? ReportCells.Accuracy(va.GetValue<double>()) : null),
            ("test accuracy", b?["test_accuracy"] is JsonNode ta ? ReportCells.Accuracy(ta.GetValue<double>()) : null),
            ("normal cell", string.Join("; ", best.Normal.Blocks.Select((k, i) => $"block {i}: {k}"))),
            ("reduction cell", string.Join("; ", best.Reduction.Blocks.Select((k, i) => $"block {i}: {k}"))),
        ]);
        page.Figures(CellGraph.ToSvg(best.Normal, "Normal cell"), CellGraph.ToSvg(best.Reduction, "Reduction cell"));
    }

    private static void StageWiseSections(HtmlReport page, JsonObject results)
    {
        var steps = ((JsonArray)results["steps"]!).OfType<JsonObject>().Select(s => (
            Iteration: s["iteration"]?.GetValue<int>() ?? 0,
            Role: s["role"]?.GetValue<string>() ?? "",
            Depths: (s["stage_depths"] as JsonArray ?? []).Select(d => d!.GetValue<int>()).ToArray(),
            Scores: (s["stage_scores"] as JsonArray ?? []).Select(d => d!.GetValue<double>()).ToArray(),
            Valid: s["valid_accuracy"]?.GetValue<double?>())).ToArray();
        var candidates = steps.Where(s => s.Role is "initial" or "candidate").ToArray();
        int stages = steps.Length == 0 ? 0 : steps.Max(s => s.Depths.Length);

        var depthChart = new SvgChart("Depth of each stage per iteration", "iteration", "modules in the stage") { IntegerX = true, IntegerY = true };
        var scoreChart = new SvgChart("Stage scores of every trained network", "network trained (in order)", "mean feature importance") { IntegerX = true };
        for (int s = 0; s < stages; s++)
        {
            int stage = s;
            depthChart.Add(new ChartSeries($"stage {stage + 1}",
                candidates.Where(c => c.Depths.Length > stage).Select(c => ((double)c.Iteration, (double)c.Depths[stage])).ToArray(), SeriesStyle.Line));
            scoreChart.Add(new ChartSeries($"stage {stage + 1}",
                steps.Select((c, i) => (c, i)).Where(q => q.c.Scores.Length > stage).Select(q => ((double)q.i + 1, q.c.Scores[stage])).ToArray(), SeriesStyle.Line,
                steps.Where(c => c.Scores.Length > stage).Select(c => $"iteration {c.Iteration} {c.Role} [{string.Join(", ", c.Depths)}]: stage {stage + 1} score {c.Scores[stage]:F4}").ToArray()));
        }
        page.Section("Stage-wise growth").Charts(depthChart, scoreChart);
        page.Table("steps", ["iteration", "role", "stage depths", "stage scores", "valid acc"],
            steps.Select(s => (IReadOnlyList<string>)
            [
                s.Iteration.ToString(CultureInfo.InvariantCulture), s.Role, "[" + string.Join(", ", s.Depths) + "]",
                "[" + string.Join(", ", s.Scores.Select(v => v.ToString("F4", CultureInfo.InvariantCulture))) + "]", ReportCells.Accuracy(s.Valid),
            ]), 0, 1, 2, 3);
    }

    private static JsonObject? ReadResults(string runDir)
    {
        string path = Path.Combine(runDir, "results.json");
        if (!File.Exists(path)) return null;
        try { return JsonNode.Parse(File.ReadAllText(path))?.AsObject(); }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        { throw new InvalidDataException($"{path}: not a results file ({e.Message})"); }
    }

    /// <summary>The train run metrics of a trial (its artifact folder's <c>metrics.json</c>), or null.</summary>
    private static RunMetrics? TrialRunMetrics(string runDir, Trial t)
    {
        // Trial folders are named by the key (stage-wise, EPNAS) or, for discrete searches (NASNet), by the sample's choices.
        string?[] names = [t.Key.Replace('/', '-'), t.Key, t.Genotype["key"]?.GetValue<string>()];
        string? dir = names.OfType<string>().Select(n => Path.Combine(runDir, "trials", n)).FirstOrDefault(d => File.Exists(Path.Combine(d, "metrics.json")));
        if (dir is null) return null;
        try { return TrainRunReport.ReadMetrics(dir); }
        catch (InvalidDataException) { return null; }
    }
}
