using System.CommandLine;
using SharpNas.Search.Reports;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas report RUN_DIR [--out FILE.html]</c>: writes the self-contained HTML report of a run folder.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "a run folder of sharpnas train or sharpnas search" };
        var outFile = new Option<string?>("--out") { Description = "the HTML file to write (default RUN_DIR/report.html)" };
        var cmd = new Command("report", "write a self-contained HTML report (tables and SVG plots) of a run folder") { runDir, outFile };
        cmd.SetAction(p => CommandRunner.Run(_ =>
        {
            string path = SearchRunReport.Write(p.GetValue(runDir)!, p.GetValue(outFile));
            Console.WriteLine($"wrote {path}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
