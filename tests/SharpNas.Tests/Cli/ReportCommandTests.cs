using SharpNas.Search.Trials;
using SharpNas.Tests.Data;

namespace SharpNas.Tests.Cli;

/// <summary>Bad input to <c>sharpnas report</c>: exit code 2 and no page (not even a partial one) left behind.</summary>
public sealed class ReportCommandTests : IDisposable
{
    private readonly TestFolder _folder = new();

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _folder.Dispose();
    }

    private static int Run(params string[] args) => SharpNas.Cli.Program.Main(args);

    private void AssertNothingWritten(string dir)
    {
        Assert.Empty(Directory.GetFiles(dir, "*.html", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    private string Folder(string name) => Directory.CreateDirectory(Path.Combine(_folder.Path, name)).FullName;

    [Fact]
    public void AFolderWithoutResults_IsExitCodeTwo()
    {
        string dir = Folder("empty");
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "no run here");
        Assert.Equal(2, Run("report", dir));
        AssertNothingWritten(dir);
        Assert.Equal(2, Run("report", Path.Combine(_folder.Path, "missing")));
    }

    [Fact]
    public void ASearchWithNoTrialsYet_IsExitCodeTwo()
    {
        string dir = Folder("fresh-search");
        using (new SqliteTrialStore(Path.Combine(dir, "trials.db"))) { }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Assert.Equal(2, Run("report", dir));
        AssertNothingWritten(dir);
    }

    [Fact]
    public void TruncatedResultFiles_AreExitCodeTwo()
    {
        string train = Folder("truncated-train");
        File.WriteAllText(Path.Combine(train, "metrics.json"), "{\"architecture\": \"basic [1] × 4\", \"data\": ");
        Assert.Equal(2, Run("report", train));
        AssertNothingWritten(train);

        string bench = Folder("truncated-bench");
        File.WriteAllText(Path.Combine(bench, "results.json"), "{\"benchmark\": \"nas-bench-201\", \"strat");
        Assert.Equal(2, Run("report", bench));
        AssertNothingWritten(bench);

        string wrongType = Folder("bench-wrong-type");
        File.WriteAllText(Path.Combine(wrongType, "results.json"), "{\"benchmark\": \"nas-bench-201\", \"strategies\": [{\"strategy\": 5}]}");
        Assert.Equal(2, Run("report", wrongType));
        AssertNothingWritten(wrongType);

        string noStrategies = Folder("bench-without-strategies");
        File.WriteAllText(Path.Combine(noStrategies, "results.json"), "{\"benchmark\": \"nas-bench-201\", \"strategies\": []}");
        Assert.Equal(2, Run("report", noStrategies));
        AssertNothingWritten(noStrategies);
    }

    [Fact]
    public void AnOutFileInAMissingFolder_IsExitCodeTwo()
    {
        string dir = Folder("bench");
        File.WriteAllText(Path.Combine(dir, "results.json"), "{\"benchmark\": \"nas-bench-201\", \"strategies\": [{\"strategy\": \"random\", \"runs\": 1, \"picks\": [], \"curve\": []}]}");
        Assert.Equal(0, Run("report", dir));
        Assert.True(File.Exists(Path.Combine(dir, "report.html")));
        Assert.Equal(2, Run("report", dir, "--out", Path.Combine(_folder.Path, "no", "such", "folder", "r.html")));
    }
}
