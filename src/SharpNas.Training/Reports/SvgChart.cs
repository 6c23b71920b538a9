using System.Globalization;
using System.Net;
using System.Text;

namespace SharpNas.Training.Reports;

/// <summary>How a series is drawn.</summary>
public enum SeriesStyle
{
    /// <summary>Circles at the points.</summary>
    Markers,
    /// <summary>Hollow diamonds at the points (used for reference points such as uniform baselines).</summary>
    Diamonds,
    /// <summary>A polyline through the points, with small circles.</summary>
    Line,
    /// <summary>A staircase through the points (a Pareto front or a best-so-far curve), dashed.</summary>
    Steps,
}

/// <summary>One named set of points of a chart; <paramref name="Labels"/> (same length as the points, optional)
/// become hover titles.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, SeriesStyle Style, IReadOnlyList<string>? Labels = null);

/// <summary>
/// An x–y chart written as an inline SVG element: axes with round ticks, a legend, hover titles; no script, no
/// external resource. Every report plot is one of these (scatter, line, staircase), so the page needs no plotting
/// library. The element carries <c>class="plot"</c> and <c>data-title</c>; each series is a <c>g.series</c> with
/// <c>data-name</c> and one <c>circle</c>/<c>path</c> per point, which is what the browser test counts.
/// </summary>
public sealed class SvgChart(string title, string xLabel, string yLabel)
{
    private static readonly string[] Palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];
    private const int Width = 520, Height = 320, Left = 64, Right = 16, Top = 30, Bottom = 46;

    /// <summary>The chart's title.</summary>
    public string Title { get; } = title;

    /// <summary>The series, drawn in order (later on top).</summary>
    public List<ChartSeries> Series { get; } = [];

    /// <summary>Formats tick labels of the x axis (default: compact number).</summary>
    public Func<double, string> XFormat { get; init; } = Compact;

    /// <summary>Formats tick labels of the y axis (default: compact number).</summary>
    public Func<double, string> YFormat { get; init; } = Compact;

    /// <summary>Whether x ticks are whole numbers (iterations, epochs, counts).</summary>
    public bool IntegerX { get; init; }

    /// <summary>Whether y ticks are whole numbers.</summary>
    public bool IntegerY { get; init; }

    /// <summary>Adds a series and returns the chart.</summary>
    public SvgChart Add(ChartSeries series)
    {
        Series.Add(series);
        return this;
    }

    /// <summary>The SVG element.</summary>
    public string ToSvg()
    {
        var points = Series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToArray();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"plot\" data-title=\"{Enc(Title)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" role=\"img\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Enc(Title)}</title>");
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"18\" text-anchor=\"middle\" class=\"ct\">{Enc(Title)}</text>");
        if (points.Length == 0)
        {
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"{Height / 2}\" text-anchor=\"middle\" class=\"cl\">no data</text></svg>");
            return sb.ToString();
        }
        (double x0, double x1, double[] xt) = Axis(points.Min(p => p.X), points.Max(p => p.X), IntegerX);
        (double y0, double y1, double[] yt) = Axis(points.Min(p => p.Y), points.Max(p => p.Y), IntegerY);
        double plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        double Sx(double x) => Left + (x - x0) / (x1 - x0) * plotW;
        double Sy(double y) => Top + plotH - (y - y0) / (y1 - y0) * plotH;

        sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{plotW}\" height=\"{plotH}\" class=\"frame\"/>");
        foreach (double t in xt)
        {
            string x = F(Sx(t));
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{x}\" x2=\"{x}\" y1=\"{Top}\" y2=\"{F(Top + plotH)}\" class=\"grid\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{x}\" y=\"{F(Top + plotH + 14)}\" text-anchor=\"middle\" class=\"tick\">{Enc(XFormat(t))}</text>");
        }
        foreach (double t in yt)
        {
            string y = F(Sy(t));
            sb.Append(CultureInfo.InvariantCulture, $"<line x1=\"{Left}\" x2=\"{F(Left + plotW)}\" y1=\"{y}\" y2=\"{y}\" class=\"grid\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 5}\" y=\"{y}\" dy=\"4\" text-anchor=\"end\" class=\"tick\">{Enc(YFormat(t))}</text>");
        }
        sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(Left + plotW / 2)}\" y=\"{Height - 8}\" text-anchor=\"middle\" class=\"cl\">{Enc(xLabel)}</text>");
        sb.Append(CultureInfo.InvariantCulture, $"<text transform=\"translate(14 {F(Top + plotH / 2)}) rotate(-90)\" text-anchor=\"middle\" class=\"cl\">{Enc(yLabel)}</text>");

        for (int s = 0; s < Series.Count; s++)
        {
            ChartSeries series = Series[s];
            string color = Palette[s % Palette.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<g class=\"series\" data-name=\"{Enc(series.Name)}\">");
            var finite = series.Points.Select((p, i) => (p, i)).Where(q => double.IsFinite(q.p.X) && double.IsFinite(q.p.Y)).ToArray();
            if (series.Style is SeriesStyle.Line or SeriesStyle.Steps && finite.Length > 1)
            {
                var d = new StringBuilder();
                for (int k = 0; k < finite.Length; k++)
                {
                    (double X, double Y) p = finite[k].p;
                    if (k == 0) d.Append(CultureInfo.InvariantCulture, $"M{F(Sx(p.X))},{F(Sy(p.Y))}");
                    else if (series.Style == SeriesStyle.Steps) d.Append(CultureInfo.InvariantCulture, $"H{F(Sx(p.X))}V{F(Sy(p.Y))}");
                    else d.Append(CultureInfo.InvariantCulture, $"L{F(Sx(p.X))},{F(Sy(p.Y))}");
                }
                string dash = series.Style == SeriesStyle.Steps ? " stroke-dasharray=\"5 3\"" : "";
                sb.Append(CultureInfo.InvariantCulture, $"<path d=\"{d}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"1.8\"{dash}/>");
            }
            foreach (((double X, double Y) p, int i) in finite)
            {
                string tip = series.Labels is { } l && i < l.Count ? l[i] : $"{series.Name}: {XFormat(p.X)}, {YFormat(p.Y)}";
                string cx = F(Sx(p.X)), cy = F(Sy(p.Y));
                if (series.Style == SeriesStyle.Diamonds)
                    sb.Append(CultureInfo.InvariantCulture,
                        $"<path class=\"pt\" d=\"M{cx},{F(Sy(p.Y) - 6)}l6,6l-6,6l-6,-6z\" fill=\"white\" stroke=\"{color}\" stroke-width=\"2\"><title>{Enc(tip)}</title></path>");
                else
                {
                    string r = series.Style == SeriesStyle.Markers ? "4.5" : "2.5";
                    sb.Append(CultureInfo.InvariantCulture, $"<circle class=\"pt\" cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"{color}\" fill-opacity=\"0.8\"><title>{Enc(tip)}</title></circle>");
                }
            }
            sb.Append("</g>");
        }
        // Legend, top-left inside the frame.
        for (int s = 0; s < Series.Count; s++)
        {
            double ly = Top + 12 + s * 15;
            string color = Palette[s % Palette.Length];
            sb.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left + 8}\" y=\"{F(ly - 8)}\" width=\"10\" height=\"10\" fill=\"{color}\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + 22}\" y=\"{F(ly + 1)}\" class=\"legend\">{Enc(Series[s].Name)}</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    /// <summary>A padded range with 4–8 round ticks.</summary>
    private static (double Lo, double Hi, double[] Ticks) Axis(double min, double max, bool integer)
    {
        if (max - min < 1e-12 * Math.Max(1, Math.Abs(max)))
        {
            double pad = Math.Abs(min) > 0 ? Math.Abs(min) * 0.1 : 1;
            (min, max) = (min - pad, max + pad);
        }
        double raw = (max - min) / 5;
        double mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = mag * (raw / mag < 1.5 ? 1 : raw / mag < 3.5 ? 2 : raw / mag < 7.5 ? 5 : 10);
        if (integer) step = Math.Max(1, Math.Round(step));
        double lo = Math.Floor(min / step) * step, hi = Math.Ceiling(max / step) * step;
        if (hi - max < step * 0.05) hi += step * 0.5;
        if (min - lo < step * 0.05) lo -= step * 0.5;
        var ticks = new List<double>();
        for (double t = Math.Ceiling(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.Add(Math.Round(t / step) * step + 0.0);
        return (lo, hi, ticks.ToArray());
    }

    /// <summary>A short number: 1.2M, 350k, 0.85, 12.</summary>
    public static string Compact(double v)
    {
        double a = Math.Abs(v);
        return a >= 1e9 ? (v / 1e9).ToString("0.##", CultureInfo.InvariantCulture) + "G"
            : a >= 1e6 ? (v / 1e6).ToString("0.##", CultureInfo.InvariantCulture) + "M"
            : a >= 1e4 ? (v / 1e3).ToString("0.#", CultureInfo.InvariantCulture) + "k"
            : v.ToString("0.###", CultureInfo.InvariantCulture);
    }

    /// <summary>A fraction as a percentage, 0.853 → 85.3%.</summary>
    public static string Percent(double v) => (v * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
