using SharpNas.Data;
using SharpNas.Search.Genotypes;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary>Runs a command body with the tool's error policy: bad input → one line on stderr and exit code 2;
/// Ctrl-C → the body's cancellation token fires, it checkpoints, and the tool exits with 130.</summary>
internal static class CommandRunner
{
    public static int Run(Func<CancellationToken, int> body)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            cancel.Cancel();
            Console.Error.WriteLine("interrupting: saving a checkpoint (press Ctrl-C again to abort at once)…");
        };
        Console.CancelKeyPress += handler;
        try
        {
            return body(cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            Console.Error.WriteLine("interrupted: rerun the same command to resume");
            return ExitCodes.Interrupted;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            Console.Error.WriteLine("error: " + OneLine(e.Message));
            return ExitCodes.BadInput;
        }
        finally
        {
            Console.CancelKeyPress -= handler;
        }
    }

    private static bool IsBadInput(Exception e) => e is DataFormatException or GenotypeException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or ArgumentException or FormatException or TrainingDivergedException;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
