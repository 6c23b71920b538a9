using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using SharpNas.Search.Trials;

namespace SharpNas.Cli.Commands;

/// <summary>
/// <c>--workers N</c> of the search commands: N <c>sharpnas worker</c> child processes (this same tool, started again
/// — the apphost, or <c>dotnet sharpnas.dll</c> when run that way) on the search's store, each bound to the search
/// (<c>--search ID</c>) with the run folder's parent as artifact root, writing its output to
/// <c>RUN/workers/worker-I.log</c>. They exit by themselves once the search is marked finished, or once this process
/// is gone (<c>--parent-pid</c>: a coordinator killed with <c>kill -9</c> leaves no orphans); disposing waits a little
/// for that and kills the ones still running (e.g. when the coordinator stops on an error or Ctrl-C).
/// </summary>
internal sealed class LocalWorkers : IDisposable
{
    private readonly List<(Process Process, StreamWriter Log)> _workers = [];

    /// <summary>The option.</summary>
    public static Option<int> Option() => new("--workers")
    {
        Description = "start N local `sharpnas worker` processes that train the children in parallel (default 0: this process trains them)",
        DefaultValueFactory = _ => 0,
    };

    /// <summary>Starts <paramref name="count"/> workers of search <paramref name="searchId"/> on <paramref name="storeSpec"/>
    /// with <paramref name="threads"/> training threads each; logs in <paramref name="runDir"/>/workers.</summary>
    public LocalWorkers(int count, string storeSpec, string searchId, string runDir, int threads)
    {
        string root = Path.GetDirectoryName(Path.GetFullPath(runDir))!;
        string logs = Path.Combine(runDir, "workers");
        Directory.CreateDirectory(logs);
        (string file, string[] prefix) = SelfCommand();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
                foreach (string a in prefix) start.ArgumentList.Add(a);
                foreach (string a in new[] { "worker", "--store", storeSpec, "--search", searchId, "--artifacts", root,
                             "--name", string.Create(CultureInfo.InvariantCulture, $"local{i}"), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                             "--parent-pid", Environment.ProcessId.ToString(CultureInfo.InvariantCulture) })
                    start.ArgumentList.Add(a);
                start.Environment.Remove(TrialStores.EnvironmentVariable);
                var log = new StreamWriter(Path.Combine(logs, string.Create(CultureInfo.InvariantCulture, $"worker-{i}.log")), append: true) { AutoFlush = true };
                Process p = Process.Start(start) ?? throw new InvalidOperationException($"--workers: could not start {file}");
                p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
                p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine("! " + e.Data); };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                _workers.Add((p, log));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>Process ids of the workers.</summary>
    public IReadOnlyList<int> Pids => _workers.Select(w => w.Process.Id).ToList();

    /// <summary>True once every worker has exited (the coordinator then trains the remaining children itself).</summary>
    public bool AllExited => _workers.All(w => w.Process.HasExited);

    /// <summary>The training threads of each of <paramref name="count"/> workers: <paramref name="given"/> (<c>--threads</c>),
    /// else the threads this process would use (<c>SHARPNAS_THREADS</c> or the cores) shared out, at least 1.</summary>
    public static int ThreadsEach(int count, int? given)
    {
        if (given is int g) return g;
        string? env = Environment.GetEnvironmentVariable("SHARPNAS_THREADS");
        int total = int.TryParse(env, NumberStyles.None, CultureInfo.InvariantCulture, out int t) && t > 0 ? t : Environment.ProcessorCount;
        return Math.Max(1, total / Math.Max(1, count));
    }

    /// <summary>How to start this tool again: the apphost itself, or <c>dotnet</c> with the entry assembly.</summary>
    private static (string File, string[] Prefix) SelfCommand()
    {
        string process = Environment.ProcessPath ?? throw new InvalidOperationException("--workers: the path of this process is unknown");
        string name = Path.GetFileNameWithoutExtension(process);
        if (!name.Equals("dotnet", StringComparison.OrdinalIgnoreCase)) return (process, []);
        string entry = Assembly.GetEntryAssembly()?.Location is { Length: > 0 } l ? l
            : Path.Combine(AppContext.BaseDirectory, "sharpnas.dll");
        return (process, [entry]);
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the workers to exit (after the search is marked finished).</summary>
    public void WaitForExit(TimeSpan timeout)
    {
        DateTime until = DateTime.UtcNow + timeout;
        foreach ((Process p, _) in _workers)
        {
            TimeSpan left = until - DateTime.UtcNow;
            if (left > TimeSpan.Zero) p.WaitForExit(left);
        }
    }

    public void Dispose()
    {
        foreach ((Process p, StreamWriter log) in _workers)
        {
            try
            {
                if (!p.HasExited) p.Kill(entireProcessTree: true);
                p.WaitForExit();
            }
            catch (InvalidOperationException) { /* already gone */ }
            p.Dispose();
            lock (log) log.Dispose();
        }
        _workers.Clear();
    }
}
