using System.CommandLine;
using SharpNas.Cli.Commands;

namespace SharpNas.Cli;

/// <summary>Entry point of the <c>sharpnas</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns the process exit code (0 ok, 2 bad input, 130 interrupted).</summary>
    public static int Main(string[] args)
    {
        var root = new RootCommand("SharpNas: efficient neural architecture search for image classification")
        {
            TrainCommand.Create(),
            new Command("search", "run an architecture search") { SearchStageWiseCommand.Create(), SearchNasNetCommand.Create(), SearchEpnasCommand.Create() },
            new Command("bench", "compare search strategies on a tabular benchmark") { BenchNb201Command.Create() },
            EvalCommand.Create(),
            ReportCommand.Create(),
            ExportCommand.Create(),
            WorkerCommand.Create(), StatusCommand.Create(),
        };
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var error in parsed.Errors) Console.Error.WriteLine("error: " + error.Message);
            return ExitCodes.BadInput;
        }
        return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }
}

/// <summary>The tool's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Ok = 0;
    /// <summary>Bad input: a file, option, architecture or dataset that cannot be used.</summary>
    public const int BadInput = 2;
    /// <summary>Interrupted (Ctrl-C); the run can be resumed.</summary>
    public const int Interrupted = 130;
}
