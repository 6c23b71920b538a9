using System.Globalization;
using System.Text.Json.Nodes;
using SharpNas.Search.Genotypes;
using SharpNas.Training.Reports;

namespace SharpNas.Search.Reports;

/// <summary>
/// The EPNAS part of a search report, from <c>results.json</c>: the top models in a table (reward, accuracy, resources
/// and whether every constraint holds) and a chart of each top model's usage of every bound it was searched under
/// (parameters and FLOPs as a share of their upper bound, FLOPs per byte as a share of its lower bound), with the
/// 100 % line marking the bound.
/// </summary>
internal static class EpnasReportSections
{
    private sealed record Top(int Rank, string Key, string Architecture, double? Valid, double? Test, double Reward, long Params, long Flops,
        double Intensity, bool Satisfied);

    public static void Add(HtmlReport page, JsonObject results, IReadOnlyDictionary<string, string> architectures)
    {
        var constraints = (JsonObject)results["constraints"]!;
        long? maxParams = constraints["max_params"]?.GetValue<long>(), maxFlops = constraints["max_flops"]?.GetValue<long>();
        double? minIntensity = constraints["min_intensity"]?.GetValue<double>();
        Top[] top = ((JsonArray)results["top"]!).OfType<JsonObject>().Select((t, i) => new Top(
            i + 1, t["key"]?.GetValue<string>() ?? "", DescribeGenotype(t, architectures), t["valid_accuracy"]?.GetValue<double?>(),
            t["test_accuracy"]?.GetValue<double?>(), t["reward"]?.GetValue<double>() ?? double.NaN, t["params"]?.GetValue<long>() ?? 0,
            t["flops"]?.GetValue<long>() ?? 0, t["intensity"]?.GetValue<double>() ?? double.NaN, t["satisfies_constraints"]?.GetValue<bool>() ?? false)).ToArray();

        page.Section("EPNAS: top models and their constraints");
        page.Facts(
        [
            ("max params", maxParams is long p ? ReportCells.Count(p) : "none"),
            ("max FLOPs", maxFlops is long f ? ReportCells.Millions(f) + " M" : "none"),
            ("min FLOPs per byte", minIntensity is double m ? m.ToString("0.##", CultureInfo.InvariantCulture) : "none"),
            ("penalty base", constraints["base_penalty"]?.GetValue<double>().ToString("0.##", CultureInfo.InvariantCulture)),
            ("exploration limit", constraints["max_violation"] is JsonNode v
                ? "violation ≤ " + v.GetValue<double>().ToString("0.##", CultureInfo.InvariantCulture) + " (others redrawn)" : "none"),
            ("final ranking", results["ranking"]?.GetValue<string>() == "feasible" ? "satisfying all constraints first, then by reward" : "by reward"),
        ]);
        page.Table("top", ["rank", "trial", "architecture", "valid acc", "test acc", "reward", "params", "FLOPs (M)", "FLOPs/byte", "constraints"],
            top.Select(t => (IReadOnlyList<string>)
            [
                t.Rank.ToString(CultureInfo.InvariantCulture), t.Key, t.Architecture, ReportCells.Accuracy(t.Valid), ReportCells.Accuracy(t.Test),
                ReportCells.Number(t.Reward, "F4"), ReportCells.Count(t.Params), ReportCells.Millions(t.Flops),
                ReportCells.Number(t.Intensity, "F1"), t.Satisfied ? "all hold" : "violated",
            ]), 0, 1, 2, 9);

        var chart = new SvgChart("Constraint usage of the top models", "rank", "usage of the bound") { YFormat = SvgChart.Percent, IntegerX = true };
        void Usage(string name, Func<Top, double> usage, string unit)
        {
            chart.Add(new ChartSeries(name, top.Select(t => ((double)t.Rank, usage(t))).ToArray(), SeriesStyle.Markers,
                top.Select(t => $"#{t.Rank} {t.Key}: {name} {SvgChart.Percent(usage(t))} {unit}").ToArray()));
        }
        if (maxParams is long mp) Usage("params / max params", t => (double)t.Params / mp, $"of {ReportCells.Count(mp)}");
        if (maxFlops is long mf) Usage("FLOPs / max FLOPs", t => (double)t.Flops / mf, $"of {ReportCells.Millions(mf)} M");
        if (minIntensity is double mi) Usage("FLOPs per byte / min", t => t.Intensity / mi, $"of {mi.ToString("0.##", CultureInfo.InvariantCulture)} (a lower bound)");
        if (top.Length > 0 && chart.Series.Count > 0)
            chart.Add(new ChartSeries("bound (100 %)", [(Math.Min(1, top.Length) - 0.25, 1.0), (top.Length + 0.25, 1.0)], SeriesStyle.Line,
                ["the bound", "the bound"]));
        if (chart.Series.Count == 0) page.Paragraph("The search ran without constraints, so there is no usage to show.");
        else page.Charts(chart);
    }

    private static string DescribeGenotype(JsonObject top, IReadOnlyDictionary<string, string> architectures)
    {
        string key = top["key"]?.GetValue<string>() ?? "";
        if (architectures.TryGetValue(key, out string? known)) return known;
        if (top["genotype"] is not JsonObject g) return "";
        try { return ArchitectureJson.Parse(g.ToJsonString(), key).Describe(); }
        catch (GenotypeException) { return g.ToJsonString(); }
    }
}
