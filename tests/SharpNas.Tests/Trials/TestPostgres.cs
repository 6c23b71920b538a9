using Npgsql;
using SharpNas.Search.Trials;

namespace SharpNas.Tests.Trials;

/// <summary>The PostgreSQL server of the tests, named by <c>SHARPNAS_TEST_POSTGRES</c> (a <c>postgres://</c> URL;
/// <c>.ci/run</c> starts a throwaway cluster and sets it). Absent: the test is skipped locally and fails under CI.</summary>
internal static class TestPostgres
{
    public const string Variable = "SHARPNAS_TEST_POSTGRES";

    /// <summary>Creates an empty database on the server and returns its URL.</summary>
    public static string CreateDatabase()
    {
        string? url = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(url))
        {
            string message = $"no PostgreSQL server: set {Variable} to postgres://user:password@host:port/db (.ci/run does)";
            if (SharedFolder.UnderCi) throw new InvalidOperationException(message + " — required under CI");
            Skip.If(true, message);
        }
        NpgsqlConnectionStringBuilder cs = PostgresTrialStore.ParseUrl(url!);
        string name = "sharpnas_test_" + Guid.NewGuid().ToString("N")[..12];
        using (var c = new NpgsqlConnection(cs.ConnectionString))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {name}", c);
            cmd.ExecuteNonQuery();
        }
        var uri = new UriBuilder(url!) { Path = "/" + name };
        return uri.Uri.ToString();
    }
}

/// <summary>Runs the built <c>sharpnas</c> tool as a child process (as a user would start workers), capturing its output.</summary>
internal sealed class CliProcess : IDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly System.Text.StringBuilder _output = new();

    public CliProcess(string workingDir, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "sharpnas.dll"));
        foreach (string a in args) start.ArgumentList.Add(a);
        start.Environment["SHARPNAS_THREADS"] = "1";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment.Remove("SHARPNAS_STORE");
        _process = System.Diagnostics.Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine("! " + e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>kill -TERM: the polite stop of schedulers and container runtimes.</summary>
    public void Terminate()
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
        kill.WaitForExit();
    }

    /// <summary>Waits for the exit and returns the exit code; kills the process and fails after <paramref name="timeout"/>.</summary>
    public int Wait(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
        {
            Kill();
            throw new TimeoutException($"sharpnas did not exit within {timeout.TotalSeconds} s; output:\n{Output}");
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
