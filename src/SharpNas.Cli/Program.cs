namespace SharpNas.Cli;

/// <summary>Entry point of the <c>sharpnas</c> command-line tool.</summary>
public static class Program
{
    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Main(string[] args)
    {
        Console.WriteLine("sharpnas: commands arrive with the training issue");
        return 0;
    }
}
