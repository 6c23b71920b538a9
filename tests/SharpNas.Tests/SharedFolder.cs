namespace SharpNas.Tests;

/// <summary>Locates the team's shared data beside the repository (<c>../shared/…</c>) or in a folder named by an
/// environment variable. Under CI (<c>CI=true</c>) a missing folder fails the test instead of skipping it.</summary>
internal static class SharedFolder
{
    /// <summary>The repository root (the folder holding SharpNas.sln).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "SharpNas.sln"))) return dir.FullName;
        throw new InvalidOperationException("tests: cannot find SharpNas.sln above " + AppContext.BaseDirectory);
    }

    /// <summary>The folder from <paramref name="envVar"/>, else <c>../shared/{relative}</c>; null when absent.</summary>
    public static string? Find(string envVar, string relative)
    {
        string? fromEnv = Environment.GetEnvironmentVariable(envVar);
        string path = !string.IsNullOrEmpty(fromEnv) ? fromEnv : Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", relative));
        return Directory.Exists(path) ? path : null;
    }

    /// <summary>True when running under CI, where missing shared data is a failure.</summary>
    public static bool UnderCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Returns the folder, or skips the test (fails it under CI) naming what is missing.</summary>
    public static string Require(string envVar, string relative)
    {
        string? path = Find(envVar, relative);
        if (path is not null) return path;
        string message = $"shared folder ../shared/{relative} (or ${envVar}) is absent";
        if (UnderCi) throw new InvalidOperationException(message + " — required under CI");
        Skip.If(true, message);
        return "";
    }
}
