using System.Globalization;
using System.Net;
using System.Text;

namespace SharpNas.Training.Reports;

/// <summary>
/// A self-contained HTML page (inline CSS and SVG, nothing fetched, no script): a title, then sections of facts,
/// tables and charts, in the order they are added. Tables carry <c>class="trials"</c> rows that tests can count.
/// </summary>
public sealed class HtmlReport(string title)
{
    private readonly StringBuilder _body = new();

    private const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fff}
        h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
        dl.facts{display:grid;grid-template-columns:max-content auto;gap:3px 16px;margin:0}dl.facts dt{color:#666}dl.facts dd{margin:0}
        table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;border-bottom:1px solid #eee;text-align:right}
        th{background:#f4f4f4;position:sticky;top:0}td:first-child,th:first-child,td.t{text-align:left}
        .charts{display:flex;flex-wrap:wrap;gap:12px}svg.plot,svg.cell{border:1px solid #e4e4e4;background:#fff}
        svg .frame{fill:none;stroke:#999}svg .grid{stroke:#eee}svg .tick{font-size:10px;fill:#555}
        svg .cl{font-size:12px;fill:#333}svg .ct{font-size:13px;font-weight:600;fill:#222}svg .legend{font-size:11px;fill:#333}
        footer{margin-top:28px;color:#888;font-size:12px}
        """;

    /// <summary>Starts a section with a heading.</summary>
    public HtmlReport Section(string heading)
    {
        _body.Append(CultureInfo.InvariantCulture, $"<h2>{Enc(heading)}</h2>\n");
        return this;
    }

    /// <summary>A definition list of (name, value) facts; null values are left out.</summary>
    public HtmlReport Facts(IEnumerable<(string Name, string? Value)> facts)
    {
        _body.Append("<dl class=\"facts\">");
        foreach ((string name, string? value) in facts)
            if (value is not null) _body.Append(CultureInfo.InvariantCulture, $"<dt>{Enc(name)}</dt><dd>{Enc(value)}</dd>");
        _body.Append("</dl>\n");
        return this;
    }

    /// <summary>A table; <paramref name="textColumns"/> lists the columns aligned left (the first always is).</summary>
    public HtmlReport Table(string cssClass, IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, params int[] textColumns)
    {
        _body.Append(CultureInfo.InvariantCulture, $"<table class=\"{Enc(cssClass)}\"><thead><tr>");
        foreach (string h in headers) _body.Append(CultureInfo.InvariantCulture, $"<th>{Enc(h)}</th>");
        _body.Append("</tr></thead><tbody>\n");
        foreach (IReadOnlyList<string> row in rows)
        {
            _body.Append("<tr>");
            for (int i = 0; i < row.Count; i++)
                _body.Append(textColumns.Contains(i) ? "<td class=\"t\">" : "<td>").Append(Enc(row[i])).Append("</td>");
            _body.Append("</tr>\n");
        }
        _body.Append("</tbody></table>\n");
        return this;
    }

    /// <summary>A paragraph of text.</summary>
    public HtmlReport Paragraph(string text)
    {
        _body.Append(CultureInfo.InvariantCulture, $"<p>{Enc(text)}</p>\n");
        return this;
    }

    /// <summary>Charts side by side (wrapping).</summary>
    public HtmlReport Charts(params SvgChart[] charts)
    {
        _body.Append("<div class=\"charts\">");
        foreach (SvgChart c in charts) _body.Append(c.ToSvg());
        _body.Append("</div>\n");
        return this;
    }

    /// <summary>Ready-made inline SVG figures (e.g. graphs) side by side, like <see cref="Charts"/>.</summary>
    public HtmlReport Figures(params string[] svgElements)
    {
        _body.Append("<div class=\"charts\">");
        foreach (string svg in svgElements) _body.Append(svg);
        _body.Append("</div>\n");
        return this;
    }

    /// <summary>The whole page.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Enc(title)}</title><style>{Css}</style></head>\n<body>\n<h1>{Enc(title)}</h1>\n");
        sb.Append(_body);
        sb.Append("<footer>Written by SharpNas. Hover a point for its network.</footer>\n</body></html>\n");
        return sb.ToString();
    }

    /// <summary>Writes the page through a temporary file and a rename.</summary>
    public void Write(string path) => TrainingRun.WriteAtomically(path, ToHtml());

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}

/// <summary>Cells of report tables, formatted the same way everywhere ("–" for unknown).</summary>
public static class ReportCells
{
    /// <summary>An accuracy as a percentage with two decimals.</summary>
    public static string Accuracy(double? v) => v is double d ? d.ToString("P2", CultureInfo.InvariantCulture) : "–";

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long? v) => v is long n ? n.ToString("N0", CultureInfo.InvariantCulture) : "–";

    /// <summary>Millions with one decimal (FLOPs as multiply-adds).</summary>
    public static string Millions(long? v) => v is long n ? (n / 1e6).ToString("F2", CultureInfo.InvariantCulture) : "–";

    /// <summary>Bytes as MiB.</summary>
    public static string MiB(long? v) => v is long n ? (n / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "–";

    /// <summary>A number with the given format.</summary>
    public static string Number(double? v, string format) => v is double d ? d.ToString(format, CultureInfo.InvariantCulture) : "–";

    /// <summary>Kilograms CO₂eq as grams.</summary>
    public static string Grams(double? kg) => kg is double d ? (d * 1000).ToString("F3", CultureInfo.InvariantCulture) : "–";

    /// <summary>A duration in seconds, as s, min or h.</summary>
    public static string Duration(double? seconds) => seconds switch
    {
        null => "–",
        < 120 => seconds.Value.ToString("F1", CultureInfo.InvariantCulture) + " s",
        < 7200 => (seconds.Value / 60).ToString("F1", CultureInfo.InvariantCulture) + " min",
        _ => (seconds.Value / 3600).ToString("F2", CultureInfo.InvariantCulture) + " h",
    };
}

/// <summary>The Pareto front of (cost, accuracy) points: the points no other point beats on both (lower or equal
/// cost and higher accuracy), sorted by cost.</summary>
public static class ParetoFront
{
    /// <summary>The indices of the front's points in <paramref name="points"/>, by increasing cost.</summary>
    public static IReadOnlyList<int> Of(IReadOnlyList<(double Cost, double Accuracy)> points)
    {
        var order = Enumerable.Range(0, points.Count)
            .Where(i => double.IsFinite(points[i].Cost) && double.IsFinite(points[i].Accuracy))
            .OrderBy(i => points[i].Cost).ThenByDescending(i => points[i].Accuracy).ToArray();
        var front = new List<int>();
        double best = double.NegativeInfinity;
        foreach (int i in order)
            if (points[i].Accuracy > best)
            {
                front.Add(i);
                best = points[i].Accuracy;
            }
        return front;
    }
}
