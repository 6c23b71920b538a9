using System.Text.Json;
using SharpNas.Engine;
using SharpNas.Engine.Optim;
using Xunit.Abstractions;

namespace SharpNas.Tests.Engine;

/// <summary>
/// Runs the cases of <c>fixtures/torch-reference-search</c> (the searches' controllers, optimizers, schedules and
/// activations) that the engine can run, and lists by name those it cannot run yet. Adding an op is one arm of
/// <see cref="RunnerFor"/>: its cases then move from the list to the comparison.
/// </summary>
public sealed class SearchReferenceTests(ITestOutputHelper output)
{
    private const string EnvVar = "SHARPNAS_SEARCH_FIXTURES";
    private const string Relative = "fixtures/torch-reference-search";

    /// <summary>The runner of an op, or null while the engine has none.</summary>
    private static Func<FixtureCase, Dictionary<string, Tensor>>? RunnerFor(string op) => op switch
    {
        "adam_step" => fx => AdamSteps(fx, decoupled: false),
        "adamw_step" => fx => AdamSteps(fx, decoupled: true),
        "lr_schedule" => LrSchedules,
        _ => null,
    };

    private static IEnumerable<FixtureCase> AllCases(string root) =>
        FixtureCase.CaseNames(root).Select(name => new FixtureCase(Path.Combine(root, name)));

    public static TheoryData<string> RunnableCases()
    {
        var data = new TheoryData<string>();
        string? root = SharedFolder.Find(EnvVar, Relative);
        if (root is null) { data.Add(TorchReferenceTests.Absent); return data; }
        foreach (FixtureCase fx in AllCases(root))
            if (RunnerFor(fx.Op) is not null) data.Add(fx.Name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(RunnableCases))]
    public void MatchesPyTorch(string caseName)
    {
        string root = SharedFolder.Require(EnvVar, Relative);
        Assert.NotEqual(TorchReferenceTests.Absent, caseName);
        var fx = new FixtureCase(Path.Combine(root, caseName));
        Dictionary<string, Tensor> actual = RunnerFor(fx.Op)!(fx);
        var failures = new List<string>();
        int compared = 0;
        foreach (FixtureCase.Entry e in fx.Expected())
        {
            if (!actual.TryGetValue(e.Name, out Tensor? got)) { failures.Add($"{e.Name}: not produced"); continue; }
            if (!got.HasShape(e.Shape)) { failures.Add($"{e.Name}: shape {got.ShapeString} vs {Tensor.Format(e.Shape)}"); continue; }
            string? diff = TensorAssert.Compare(got.Span, fx.Load(e.Name).Span, e.Rtol ?? fx.Rtol, e.Atol ?? fx.Atol);
            if (diff is not null) failures.Add($"{e.Name}: {diff}");
            compared++;
        }
        Assert.True(compared > 0, $"{caseName}: nothing to compare");
        Assert.True(failures.Count == 0, $"{caseName}: " + string.Join("; ", failures));
    }

    [SkippableFact]
    public void Every_case_is_either_run_or_listed_as_awaiting_its_op()
    {
        string root = SharedFolder.Require(EnvVar, Relative);
        var cases = AllCases(root).ToList();
        var waiting = cases.Where(fx => RunnerFor(fx.Op) is null).ToList();
        output.WriteLine($"{cases.Count} search-set cases: {cases.Count - waiting.Count} run against PyTorch, {waiting.Count} await an engine op:");
        foreach (FixtureCase fx in waiting) output.WriteLine($"  not yet run: {fx.Name} (op {fx.Op})");

        // The folders on disk are exactly the cases the set's index announces (none silently missing).
        using var index = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "index.json")));
        var indexed = index.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("case").GetString()!).Order(StringComparer.Ordinal);
        Assert.Equal(indexed, cases.Select(c => c.Name));
        Assert.Contains(cases, fx => RunnerFor(fx.Op) is not null);
    }

    // ---- runners -------------------------------------------------------------------------------------------

    /// <summary>Three steps of Adam or AdamW on one parameter with the given gradients.</summary>
    private static Dictionary<string, Tensor> AdamSteps(FixtureCase fx, bool decoupled)
    {
        Assert.False(fx.Bool("amsgrad"));
        Assert.False(fx.Bool("maximize"));
        double[] betas = fx.Params.GetProperty("betas").EnumerateArray().Select(b => b.GetDouble()).ToArray();
        Tensor p = fx.Load("param");
        var adam = new Adam([p], fx.Double("lr"), betas[0], betas[1], fx.Double("eps"), fx.Double("weight_decay"), decoupled);
        var r = new Dictionary<string, Tensor>();
        for (int t = 1; t <= fx.Int("num_steps"); t++)
        {
            p.Grad = fx.Load($"grad_step{t}");
            adam.Step();
            r[$"param_step{t}"] = p.Clone();
        }
        r["exp_avg_out"] = Tensor.FromValues(adam.ExpAvg(0), p.ShapeArray);
        r["exp_avg_sq_out"] = Tensor.FromValues(adam.ExpAvgSq(0), p.ShapeArray);
        return r;
    }

    /// <summary>The learning rate used during each epoch, for the three schedules of the case.</summary>
    private static Dictionary<string, Tensor> LrSchedules(FixtureCase fx)
    {
        double baseLr = fx.Double("base_lr");
        JsonElement cosine = fx.Params.GetProperty("cosine"), seq = fx.Params.GetProperty("warmup_multistep");
        JsonElement warm = seq.GetProperty("warmup"), after = seq.GetProperty("after");
        Assert.Equal("CosineAnnealingLR", cosine.GetProperty("scheduler").GetString());
        Assert.Equal("SequentialLR", seq.GetProperty("scheduler").GetString());
        Assert.Equal("LinearLR", warm.GetProperty("scheduler").GetString());
        Assert.Equal(1.0, warm.GetProperty("end_factor").GetDouble());
        Assert.Equal("MultiStepLR", after.GetProperty("scheduler").GetString());

        var warmup = new LrSchedule.LinearWarmup(warm.GetProperty("start_factor").GetDouble(), warm.GetProperty("total_iters").GetInt32());
        var multiStep = new LrSchedule.MultiStep(after.GetProperty("milestones").EnumerateArray().Select(m => m.GetInt32()).ToArray(),
            after.GetProperty("gamma").GetDouble());
        var schedules = new Dictionary<string, LrSchedule>
        {
            ["lr_cosine"] = new LrSchedule.Cosine(cosine.GetProperty("T_max").GetInt32(), cosine.GetProperty("eta_min").GetDouble()),
            ["lr_warmup_multistep"] = new LrSchedule.Sequential(warmup, multiStep, seq.GetProperty("boundaries")[0].GetInt32()),
            ["lr_warmup_multistep_chained"] = new LrSchedule.Chained(warmup, multiStep),
        };
        long[] epochs = fx.LoadInt64("epoch");
        return schedules.ToDictionary(s => s.Key,
            s => Tensor.FromValues(epochs.Select(e => (float)s.Value.At((int)e, baseLr)).ToArray(), epochs.Length));
    }
}
