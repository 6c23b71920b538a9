using System.Runtime.InteropServices;
using SharpNas.Data;
using SharpNas.Search.Genotypes;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary>Runs a command body with the tool's error policy: bad input → one line on stderr and exit code 2;
/// Ctrl-C or SIGTERM (what <c>kill</c>, batch schedulers and container runtimes send before they force a stop) → the
/// body's cancellation token fires, it checkpoints, and the tool exits with 130.</summary>
internal static class CommandRunner
{
    public static int Run(Func<CancellationToken, int> body)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler handler = (_, e) =>
        {
            if (cancel.IsCancellationRequested) return;   // a second Ctrl-C kills the process
            e.Cancel = true;
            Interrupt(cancel, "press Ctrl-C again to abort at once");
        };
        Console.CancelKeyPress += handler;
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            if (cancel.IsCancellationRequested) return;   // a second SIGTERM ends the process at once
            context.Cancel = true;
            Interrupt(cancel, "send SIGTERM again to abort at once");
        });
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

    private static void Interrupt(CancellationTokenSource cancel, string howToAbort)
    {
        cancel.Cancel();
        Console.Error.WriteLine($"interrupting: saving a checkpoint ({howToAbort})…");
    }

    private static bool IsBadInput(Exception e) => e is DataFormatException or GenotypeException or InvalidDataException
        or FileNotFoundException or DirectoryNotFoundException or ArgumentException or FormatException or TrainingDivergedException;

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");
}
