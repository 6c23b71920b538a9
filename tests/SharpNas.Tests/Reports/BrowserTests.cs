using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using SharpNas.Search.Reports;

namespace SharpNas.Tests.Reports;

/// <summary>Renders real reports in headless Chromium (Debian's <c>chromium</c>; <c>.ci/run</c> installs it). Without
/// the browser the tests skip, except under <c>CI=true</c>, where they fail.</summary>
[Collection(ReportRunsCollection.Name)]
public sealed class BrowserTests(ReportRuns runs)
{
    private const string Chromium = "/usr/bin/chromium";

    private static void RequireBrowser()
    {
        if (File.Exists(Chromium)) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") Assert.Fail($"{Chromium} is missing; .ci/run installs it (apt-get install -y chromium)");
        Skip.If(true, $"{Chromium} is not installed");
    }

    [SkippableFact]
    public void TrainReport_RendersItsCurvesAndTableInChromium()
    {
        RequireBrowser();
        string page = Path.Combine(runs.TrainDir, "report.html");
        string dom = Render(page, "--dump-dom");
        Assert.Equal(2, ReportTests.Count(dom, "<svg class=\"plot\""));
        Assert.Equal(1, ReportTests.TableRows(dom, "trials"));
        AssertNotBlank(Screenshot(page));
    }

    [SkippableFact]
    public void StageWiseReport_RendersItsPlotsAndEveryTrialInChromium()
    {
        RequireBrowser();
        string page = SearchRunReport.Write(runs.SearchDir, Path.Combine(runs.Root, "browser-search.html"));
        string dom = Render(page, "--dump-dom");
        Assert.Equal(6, ReportTests.Count(dom, "<svg class=\"plot\""));
        Assert.Equal(runs.SearchTrials, ReportTests.TableRows(dom, "trials"));
        Assert.True(ReportTests.Count(dom, "<circle class=\"pt\"") >= runs.SearchTrials, "the scatter plots hold a point per trial");
        AssertNotBlank(Screenshot(page));
    }

    [SkippableFact]
    public void NasNetReport_RendersItsCellGraphsInChromium()
    {
        RequireBrowser();
        string page = Path.Combine(runs.NasNetDir, "report.html");
        string dom = Render(page, "--dump-dom");
        Assert.Equal(4, ReportTests.Count(dom, "<svg class=\"plot\""));
        Assert.Equal(2, ReportTests.Count(dom, "<svg class=\"cell\""));
        Assert.Equal(2 * 2 * ReportRuns.NasNetBlocks, ReportTests.Count(dom, "<g class=\"edge\""));
        Assert.Equal(ReportRuns.NasNetBudget, ReportTests.TableRows(dom, "trials"));
        AssertNotBlank(Screenshot(page));
    }

    [SkippableFact]
    public void EpnasReport_RendersItsConstraintChartAndTopTableInChromium()
    {
        RequireBrowser();
        string page = Path.Combine(runs.EpnasDir, "report.html");
        string dom = Render(page, "--dump-dom");
        Assert.Equal(5, ReportTests.Count(dom, "<svg class=\"plot\""));
        Assert.Contains("data-title=\"Constraint usage of the top models\"", dom);
        Assert.True(ReportTests.TableRows(dom, "top") >= 1);
        AssertNotBlank(Screenshot(page));
    }

    private string Screenshot(string page)
    {
        string png = Path.Combine(runs.Root, Path.GetFileNameWithoutExtension(page) + "-" + Guid.NewGuid().ToString("N")[..6] + ".png");
        Render(page, $"--screenshot={png}", "--window-size=1200,2400", "--hide-scrollbars");
        Assert.True(File.Exists(png), "chromium wrote no screenshot");
        return png;
    }

    /// <summary>Runs chromium on a file URL with the given arguments and returns its standard output.</summary>
    private string Render(string page, params string[] args)
    {
        string profile = Path.Combine(runs.Root, "chromium-profile-" + Guid.NewGuid().ToString("N"));
        var psi = new ProcessStartInfo(Chromium)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                     $"--user-data-dir={profile}" })
            psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        psi.ArgumentList.Add(new Uri(Path.GetFullPath(page)).AbsoluteUri);
        using Process p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(90)))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish within 90 s");
        }
        Assert.True(p.ExitCode == 0, $"chromium exited with {p.ExitCode}: {stderr.Result}");
        return stdout.Result;
    }

    /// <summary>Decodes the PNG and checks that enough of its pixels are text and plot marks. The window is tall enough
    /// to hold every plot of the reports the tests render, so the count does not hang on where the fold falls.</summary>
    private static void AssertNotBlank(string pngPath)
    {
        (int w, int h, byte[][] rgb) = Png.DecodeRgb(File.ReadAllBytes(pngPath));
        Assert.True(w >= 800 && h >= 600, $"screenshot is {w}×{h}");
        long coloured = 0, dark = 0;
        foreach (byte[] row in rgb)
            for (int x = 0; x < w; x++)
            {
                int r = row[3 * x], g = row[3 * x + 1], b = row[3 * x + 2];
                if (Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b)) > 60) coloured++;
                if (r + g + b < 200) dark++;
            }
        // Absolute floors, not shares of the window: the smallest report (one training run, two curves) draws about
        // 2,300 coloured and 6,900 dark pixels; a page whose plots failed to draw has a few hundred coloured ones.
        Assert.True(dark > 4000, $"only {dark} dark (text) pixels of {w * h}");
        Assert.True(coloured > 1500, $"only {coloured} coloured (plot) pixels of {w * h}");
    }
}

/// <summary>Just enough of PNG to read Chromium's screenshots: 8-bit RGB or RGBA, not interlaced.</summary>
internal static class Png
{
    public static (int Width, int Height, byte[][] Rgb) DecodeRgb(byte[] file)
    {
        Assert.True(file.Length > 8 && file[1] == 'P' && file[2] == 'N' && file[3] == 'G', "not a PNG file");
        int pos = 8, width = 0, height = 0, channels = 0;
        using var idat = new MemoryStream();
        while (pos + 8 <= file.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(file, pos + 4, 4);
            ReadOnlySpan<byte> data = file.AsSpan(pos + 8, length);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(data);
                height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                Assert.Equal(8, data[8]);
                channels = data[9] switch { 2 => 3, 6 => 4, _ => throw new InvalidDataException($"PNG colour type {data[9]} not handled") };
                Assert.Equal(0, data[12]);
            }
            else if (type == "IDAT") idat.Write(data);
            else if (type == "IEND") break;
            pos += 12 + length;
        }
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        int stride = width * channels;
        var prev = new byte[stride];
        var rows = new byte[height][];
        var line = new byte[stride + 1];
        for (int y = 0; y < height; y++)
        {
            z.ReadExactly(line);
            var cur = new byte[stride];
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                int pred = line[0] switch
                {
                    0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"PNG filter {line[0]}"),
                };
                cur[i] = (byte)(line[i + 1] + pred);
            }
            var rgb = new byte[width * 3];
            for (int x = 0; x < width; x++)
                for (int k = 0; k < 3; k++) rgb[3 * x + k] = cur[x * channels + k];
            rows[y] = rgb;
            prev = cur;
        }
        return (width, height, rows);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
