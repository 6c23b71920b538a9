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
        foreach (string title in new[] { "vs FLOPs", "vs parameters", "Best validation accuracy so far", "Depth of each stage per iteration", "Stage scores" })
            Assert.Contains(title, html);
        Assert.Equal(5, Count(html, "<svg class=\"plot\""));
        Assert.Contains("data-name=\"uniform baselines\"", html);
        Assert.Contains("data-name=\"Pareto front\"", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
        Assert.DoesNotContain("https://", html);
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
