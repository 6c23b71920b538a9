using Microsoft.Data.Sqlite;
using SharpNas.Tests.Cli;
using SharpNas.Tests.Data;

namespace SharpNas.Tests;

/// <summary>A test class with a temporary folder for each test (xUnit makes one instance per test), deleted after the
/// test once SQLite's pooled connections to the trial stores in it are closed.</summary>
public abstract class TempFolderTests : IDisposable
{
    private readonly TestFolder _folder;

    /// <summary>Creates the folder, named <c>sharpnas-{name}-{guid}</c>.</summary>
    protected TempFolderTests(string name) => _folder = new TestFolder(name);

    /// <summary>The folder (it exists from the start).</summary>
    protected string Dir => _folder.Path;

    /// <inheritdoc/>
    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _folder.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A <see cref="TempFolderTests"/> that runs <c>sharpnas</c> commands in process on a tiny npy dataset.</summary>
public abstract class CommandTests(string name) : TempFolderTests(name)
{
    /// <summary>Writes the tiny dataset (60 training, 20 test images) into the folder and returns its data spec.</summary>
    protected string TinyNpyData() => TinyNpy.Write(Dir, train: 60, test: 20);

    /// <summary>Runs the command line <paramref name="args"/>; returns the exit code.</summary>
    protected static int Run(params string[] args) => SharpNas.Cli.Program.Main(args);
}
