using System.Globalization;
using System.Net;
using System.Text;
using SharpNas.Search.Spaces.NasNet;

namespace SharpNas.Search.Reports;

/// <summary>
/// A NASNet cell drawn as a graph in inline SVG: the two cell inputs (h0, h1) on the left, each block as a node placed
/// one column right of the deepest state it reads, an edge per op labelled with the op's name (the first op of a block
/// bends up, the second down, so two ops on the same state stay apart), and the concatenated output on the right.
/// The element is <c>svg.cell</c> with <c>data-title</c>; each state is a <c>g.node</c> (<c>data-state</c>) and each
/// op a <c>g.edge</c> (<c>data-op</c>), which is what the tests count.
/// </summary>
public static class CellGraph
{
    private const int ColumnWidth = 170, RowHeight = 64, NodeWidth = 92, NodeHeight = 30, Margin = 24, TitleHeight = 28;

    /// <summary>The SVG element of <paramref name="cell"/> under <paramref name="title"/>.</summary>
    public static string ToSvg(NasNetCell cell, string title)
    {
        int states = cell.StateCount;
        var column = new int[states + 1];
        for (int b = 0; b < cell.Blocks.Count; b++)
            column[b + 2] = 1 + Math.Max(column[cell.Blocks[b].Input1], column[cell.Blocks[b].Input2]);
        int outputColumn = 1 + cell.OutputStates.Max(s => column[s]);
        column[states] = outputColumn;   // the output node
        var row = new int[states + 1];
        var rowsInColumn = new int[outputColumn + 1];
        foreach (int s in new[] { 1, 0 }.Concat(Enumerable.Range(2, states - 2)).Append(states))
            row[s] = rowsInColumn[column[s]]++;
        int maxRows = rowsInColumn.Max();
        int width = 2 * Margin + outputColumn * ColumnWidth + NodeWidth, height = TitleHeight + 2 * Margin + (maxRows - 1) * RowHeight + NodeHeight;
        // Centre each column's nodes vertically.
        double X(int s) => Margin + column[s] * ColumnWidth + NodeWidth / 2.0;
        double Y(int s) => TitleHeight + Margin + (maxRows - rowsInColumn[column[s]]) * RowHeight / 2.0 + row[s] * RowHeight + NodeHeight / 2.0;

        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"<svg class=\"cell\" data-title=\"{Enc(title)}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\">");
        sb.Append(CultureInfo.InvariantCulture, $"<title>{Enc(title)}</title><text x=\"{width / 2}\" y=\"18\" text-anchor=\"middle\" class=\"ct\">{Enc(title)}</text>");
        string arrow = "arrow-" + string.Concat(title.Where(char.IsAsciiLetterOrDigit)).ToLowerInvariant();
        sb.Append(CultureInfo.InvariantCulture, $"<defs><marker id=\"{arrow}\" viewBox=\"0 0 8 8\" refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L8,4L0,8z\" fill=\"#888\"/></marker></defs>");

        foreach (int s in cell.OutputStates)
            sb.Append(CultureInfo.InvariantCulture,
                $"<line class=\"concat\" x1=\"{F(X(s) + NodeWidth / 2.0)}\" y1=\"{F(Y(s))}\" x2=\"{F(X(states) - NodeWidth / 2.0)}\" y2=\"{F(Y(states))}\" stroke=\"#bbb\" stroke-width=\"1.2\" marker-end=\"url(#{arrow})\"/>");
        for (int b = 0; b < cell.Blocks.Count; b++)
        {
            NasNetBlock block = cell.Blocks[b];
            Edge(sb, block.Input1, b + 2, NasNetOpNames.Name(block.Op1), -1);
            Edge(sb, block.Input2, b + 2, NasNetOpNames.Name(block.Op2), +1);
        }
        for (int s = 0; s <= states; s++)
        {
            string label = s == states ? "concat → out" : s < 2 ? NasNetCell.StateName(s)
                : $"block {s - 2} ({(cell.Blocks[s - 2].Combine == NasNetCombine.Add ? "+" : "‖")})";
            string fill = s < 2 ? "#e8f0fb" : s == states ? "#fdf1e3" : "#eef7ec";
            string stroke = s < 2 ? "#1f77b4" : s == states ? "#ff7f0e" : "#2ca02c";
            string state = s == states ? "output" : NasNetCell.StateName(s);
            sb.Append(CultureInfo.InvariantCulture,
                $"<g class=\"node\" data-state=\"{Enc(state)}\"><rect x=\"{F(X(s) - NodeWidth / 2.0)}\" y=\"{F(Y(s) - NodeHeight / 2.0)}\" width=\"{NodeWidth}\" height=\"{NodeHeight}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.5\"/>");
            sb.Append(CultureInfo.InvariantCulture, $"<text x=\"{F(X(s))}\" y=\"{F(Y(s) + 4)}\" text-anchor=\"middle\" class=\"cl\">{Enc(label)}</text></g>");
        }
        sb.Append("</svg>");
        return sb.ToString();

        void Edge(StringBuilder o, int from, int to, string op, int side)
        {
            double x1 = X(from) + NodeWidth / 2.0, y1 = Y(from), x2 = X(to) - NodeWidth / 2.0, y2 = Y(to);
            double mx = (x1 + x2) / 2, my = (y1 + y2) / 2 + side * 22;
            // The quadratic curve passes through the midpoint of (start, control, end) halfway: label it there.
            double lx = (x1 + 2 * mx + x2) / 4, ly = (y1 + 2 * my + y2) / 4;
            o.Append(CultureInfo.InvariantCulture, $"<g class=\"edge\" data-op=\"{Enc(op)}\"><title>{Enc($"{NasNetCell.StateName(from)} → {op} → block {to - 2}")}</title>");
            o.Append(CultureInfo.InvariantCulture,
                $"<path d=\"M{F(x1)},{F(y1)}Q{F(mx)},{F(my)} {F(x2)},{F(y2)}\" fill=\"none\" stroke=\"#888\" stroke-width=\"1.4\" marker-end=\"url(#{arrow})\"/>");
            o.Append(CultureInfo.InvariantCulture,
                $"<text x=\"{F(lx)}\" y=\"{F(ly + (side < 0 ? -4 : 11))}\" text-anchor=\"middle\" class=\"tick\" paint-order=\"stroke\" stroke=\"white\" stroke-width=\"3\">{Enc(op)}</text></g>");
        }
    }

    private static string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);

    private static string Enc(string s) => WebUtility.HtmlEncode(s);
}
