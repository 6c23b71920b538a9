namespace SharpNas.Bench;

/// <summary>Benchmarks of the engine; each command prints one JSON line.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: SharpNas.Bench gemm|train-step|infer [options]");
        return 2;
    }
}
