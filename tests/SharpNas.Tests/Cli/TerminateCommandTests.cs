using SharpNas.Tests.Data;
using SharpNas.Tests.Trials;

namespace SharpNas.Tests.Cli;

/// <summary>SIGTERM — what <c>kill</c>, batch schedulers and container runtimes send before they force a stop — is
/// handled like Ctrl-C: the run checkpoints, says how to resume, and exits with 130, leaving no results behind as if
/// it had finished.</summary>
public sealed class TerminateCommandTests : IDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);   // a loaded 2-core machine; normally seconds
    private readonly TestFolder _folder = new("term");

    public void Dispose() => _folder.Dispose();

    [Fact]
    public void Train_OnSigterm_SavesACheckpointAndExitsWith130()
    {
        string data = TinyNpy.Write(_folder.Path, train: 60, test: 20);
        string dir = Path.Combine(_folder.Path, "run");
        string checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        using var train = new CliProcess(_folder.Path, "train", "--model", "resnet20", "--data", data, "--epochs", "100000",
            "--batch", "16", "--latency-runs", "0", "--out", dir);
        DateTime until = DateTime.UtcNow + Patience;
        while (!File.Exists(checkpoint) && !train.HasExited && DateTime.UtcNow < until) Thread.Sleep(50);
        Assert.True(File.Exists(checkpoint), "no epoch checkpoint appeared; output:\n" + train.Output);

        train.Terminate();
        Assert.Equal(130, train.Wait(Patience));
        Assert.Contains("interrupted: rerun the same command to resume", train.Output);
        Assert.True(File.Exists(checkpoint));
        Assert.False(File.Exists(Path.Combine(dir, "metrics.json")), "an interrupted run must not look finished");
    }
}
