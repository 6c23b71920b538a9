using System.Text.RegularExpressions;
using SharpNas.Search.Reports;
using SharpNas.Training.Reports;

namespace SharpNas.Tests.Reports;

[CollectionDefinition(Name)]
public sealed class ReportRunsCollection : ICollectionFixture<ReportRuns>
{
    public const string Name = "report runs";
}

[Collection(ReportRunsCollection.Name)]
public sealed class ReportTests(ReportRuns runs)
{
    internal static int Count(string html, string pattern) => Regex.Matches(html, pattern).Count;

    /// <summary>Rows of the body of the table with the given class.</summary>
    internal static int TableRows(string html, string cssClass)
    {
        Match m = Regex.Match(html, $"<table class=\"{cssClass}\">.*?<tbody>(.*?)</tbody>", RegexOptions.Singleline);
        Assert.True(m.Success, $"no table of class {cssClass}");
        return Count(m.Groups[1].Value, "<tr>");
    }

    [Fact]
    public void TrainingRun_WritesAReportWithLossAndAccuracyCurves()
    {
        string html = File.ReadAllText(Path.Combine(runs.TrainDir, "report.html"));
        Assert.Equal(2, Count(html, "<svg class=\"plot\""));
        Assert.Contains("data-title=\"Loss per epoch\"", html);
        Assert.Contains("data-title=\"Accuracy per epoch\"", html);
        Assert.Equal(1, TableRows(html, "trials"));
        Assert.Contains(System.Net.WebUtility.HtmlEncode(runs.TrainMetrics.Architecture), html);
        // One point per epoch on each curve: train, validation and test for 2 epochs, on two charts.
        Assert.Equal(2 * 3 * 2, Count(html, "<circle class=\"pt\""));
    }

    [Fact]
    public void StageWiseReport_ShowsEveryTrialTheCostPlotsAndTheStageCharts()
    {
        string path = SearchRunReport.Write(runs.SearchDir, Path.Combine(runs.Root, "search.html"));
        string html = File.ReadAllText(path);
        Assert.Equal(runs.SearchTrials, TableRows(html, "trials"));
        Assert.Equal(runs.SearchResults.Steps.Count, TableRows(html, "steps"));
        foreach (string title in new[] { "vs FLOPs", "vs parameters", "Best validation accuracy so far", "against wall time", "Depth of each stage per iteration", "Stage scores" })
            Assert.Contains(title, html);
        Assert.Equal(6, Count(html, "<svg class=\"plot\""));
        Assert.Contains("data-name=\"uniform baselines\"", html);
        Assert.Contains("data-name=\"Pareto front\"", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", html);
    }

    [Fact]
    public void NasNetSearch_WritesAReportWithTheBestCellsDrawnAsGraphs()
    {
        string html = File.ReadAllText(Path.Combine(runs.NasNetDir, "report.html"));
        Assert.Contains("SharpNas NASNet search", html);
        Assert.Contains("sharpnas search nasnet --data", html);
        Assert.Equal(ReportRuns.NasNetBudget, TableRows(html, "trials"));
        Assert.Equal(4, Count(html, "<svg class=\"plot\""));   // accuracy vs FLOPs and vs params, search curve vs trials and vs time
        Assert.Equal(2, Count(html, "<svg class=\"cell\""));
        Assert.Contains("data-title=\"Normal cell\"", html);
        Assert.Contains("data-title=\"Reduction cell\"", html);
        // Per cell: h0, h1, one node per block and the output; two op edges per block.
        Assert.Equal(2 * (2 + ReportRuns.NasNetBlocks + 1), Count(html, "<g class=\"node\""));
        Assert.Equal(2 * 2 * ReportRuns.NasNetBlocks, Count(html, "<g class=\"edge\""));
        // The trial table names the built network, not the raw choices.
        Assert.Contains("<td class=\"t\">nasnet ", html);
    }

    [Fact]
    public void EpnasSearch_WritesAReportWithTheTopModelsAndTheirConstraintUsage()
    {
        string html = File.ReadAllText(Path.Combine(runs.EpnasDir, "report.html"));
        var results = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(runs.EpnasDir, "results.json")))!;
        int top = results["top"]!.AsArray().Count;
        Assert.Contains("SharpNas EPNAS search", html);
        Assert.Equal(top, TableRows(html, "top"));
        Assert.Equal(results["trials_trained"]!.GetValue<int>(), TableRows(html, "trials"));
        Match usage = Regex.Match(html, "<svg class=\"plot\" data-title=\"Constraint usage of the top models\".*?</svg>", RegexOptions.Singleline);
        Assert.True(usage.Success, "no constraint usage chart");
        Assert.Contains("data-name=\"params / max params\"", usage.Value);
        Assert.Contains("data-name=\"FLOPs / max FLOPs\"", usage.Value);
        Assert.DoesNotContain("data-name=\"FLOPs per byte / min\"", usage.Value);   // no intensity bound was given
        // Each top model's usage of each bound, and the two ends of the bound line.
        Assert.Equal(2 * top + 2, Count(usage.Value, "<circle class=\"pt\""));
        // The usage in the hover title is the model's parameters over the bound.
        long firstParams = results["top"]![0]!["params"]!.GetValue<long>();
        Assert.Contains($"#1 {results["top"]![0]!["key"]}: params / max params {SvgChart.Percent(firstParams / 20_000.0)}", usage.Value);
    }

    [SkippableFact]
    public void BenchFolder_ReportShowsCurvesPerStrategyAndEveryRun()
    {
        string benchmarks = SharedFolder.Require("SHARPNAS_BENCHMARKS", "benchmarks");
        string dir = Path.Combine(runs.Root, "nb201");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["bench", "nb201", "--strategy", "all", "--runs", "3", "--budget", "20", "--benchmarks", benchmarks,
            "--threads", "1", "--out", dir]));
        string html = File.ReadAllText(Path.Combine(dir, "report.html"));
        var results = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!;
        int strategies = results["strategies"]!.AsArray().Count;
        Assert.True(strategies >= 3, $"{strategies} strategies");
        Assert.Equal(strategies, TableRows(html, "strategies"));
        Assert.Equal(3 * strategies, TableRows(html, "trials"));
        Assert.Equal(2, Count(html, "<svg class=\"plot\""));
        Match curves = Regex.Match(html, "<svg class=\"plot\" data-title=\"Mean test accuracy of the best cell so far\".*?</svg>", RegexOptions.Singleline);
        Assert.True(curves.Success, "no search curves");
        Assert.Equal(strategies, Count(curves.Value, "<g class=\"series\""));
        Assert.Contains("sharpnas bench nb201", html);
    }

    [Fact]
    public void ParetoFront_KeepsOnlyPointsNoOtherBeatsOnCostAndAccuracy()
    {
        (double, double)[] points = [(10, 0.5), (5, 0.6), (20, 0.9), (15, 0.55), (5, 0.4), (30, 0.9)];
        Assert.Equal([1, 2], ParetoFront.Of(points));
    }

    [Fact]
    public void ReportCommand_WritesTheFileAndRejectsAFolderWithoutAResult()
    {
        string outFile = Path.Combine(runs.Root, "cli.html");
        Assert.Equal(0, SharpNas.Cli.Program.Main(["report", runs.TrainDir, "--out", outFile]));
        Assert.Contains("<svg class=\"plot\"", File.ReadAllText(outFile));

        string empty = Path.Combine(runs.Root, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal(2, SharpNas.Cli.Program.Main(["report", empty]));
        Assert.Equal(2, SharpNas.Cli.Program.Main(["report", Path.Combine(runs.Root, "missing")]));
    }
}
