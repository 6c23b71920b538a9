using Xunit.Abstractions;

namespace SharpNas.Tests.Data;

/// <summary>
/// Finds the real datasets shared beside the repository: <c>$SHARPNAS_DATASETS</c>, else <c>../shared/datasets</c>
/// relative to the folder holding <c>SharpNas.sln</c> (found by walking up from the test binaries).
/// </summary>
internal static class SharedDatasets
{
    public static string? Locate()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable("SHARPNAS_DATASETS");
        if (!string.IsNullOrEmpty(fromEnvironment)) return fromEnvironment;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SharpNas.sln")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets"));
        }
        return null;
    }

    /// <summary>
    /// The folder of one dataset, or null when it is absent (the caller returns early). Under CI (<c>CI=true</c>)
    /// an absent folder fails the test instead.
    /// </summary>
    public static string? Folder(string name, ITestOutputHelper output)
    {
        string? root = Locate();
        string? folder = root is null ? null : Path.Combine(root, name);
        if (folder is not null && Directory.Exists(folder)) return folder;
        string message = $"shared dataset folder '{name}' not found (looked in {folder ?? "../shared/datasets beside SharpNas.sln"}; set SHARPNAS_DATASETS)";
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            Assert.Fail(message);
        output.WriteLine(message + "; skipping");
        return null;
    }
}
