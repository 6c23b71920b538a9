using System.Text.Json;
using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;
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
        "sigmoid" => fx => Pointwise(fx, F.Sigmoid),
        "tanh" => fx => Pointwise(fx, F.Tanh),
        "elu" => fx => Pointwise(fx, x => F.Elu(x, (float)fx.Double("alpha"))),
        "selu" => fx => Pointwise(fx, F.Selu),
        "silu" => fx => Pointwise(fx, F.Silu),
        "crelu" => fx => Pointwise(fx, F.CRelu),
        "softmax" => fx => Pointwise(fx, F.Softmax),
        "embedding" => EmbeddingLookup,
        "lstm" => LstmSequence,
        "nas_controller" => ControllerStep,
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

    /// <summary>A one-input op: its output, and the input's gradient under the saved upstream gradient.</summary>
    private static Dictionary<string, Tensor> Pointwise(FixtureCase fx, Func<Tensor, Tensor> op)
    {
        Tensor x = fx.Load("input");
        x.RequiresGrad = true;
        Tensor y = op(x);
        y.Backward(fx.Load("grad_output"));
        return new() { ["output"] = y, ["grad_input"] = x.Grad! };
    }

    /// <summary>Lookup of int64 indices of any shape, and the accumulated gradient of the table.</summary>
    private static Dictionary<string, Tensor> EmbeddingLookup(FixtureCase fx)
    {
        Assert.True(fx.Params.GetProperty("padding_idx").ValueKind == JsonValueKind.Null);
        Assert.True(fx.Params.GetProperty("max_norm").ValueKind == JsonValueKind.Null);
        Assert.False(fx.Bool("scale_grad_by_freq"));
        var table = new Embedding(fx.Int("num_embeddings"), fx.Int("embedding_dim"));
        table.Weight.CopyFrom(fx.Load("weight"));
        Tensor y = table.Forward(fx.LoadInt64("indices"), fx.EntryOf("indices").Shape);
        y.Backward(fx.Load("grad_output"));
        return new() { ["output"] = y, ["grad_weight"] = table.Weight.Grad! };
    }

    /// <summary>A one-layer LSTM over the sequence from (h0, c0), with upstream gradients on output, h_n and c_n.</summary>
    private static Dictionary<string, Tensor> LstmSequence(FixtureCase fx)
    {
        Assert.Equal(1, fx.Int("num_layers"));
        Assert.False(fx.Bool("batch_first"));
        Assert.True(fx.Bool("bias"));
        var lstm = new Lstm(fx.Int("input_size"), fx.Int("hidden_size"));
        lstm.LoadStateDict(lstm.StateDict().ToDictionary(p => p.Name, p => fx.Load(p.Name)));
        Tensor input = fx.Load("input"), h0 = fx.Load("h0"), c0 = fx.Load("c0");
        foreach (Tensor t in new[] { input, h0, c0 }) t.RequiresGrad = true;

        LstmOutput result = lstm.Forward(input, new LstmState(h0, c0));
        // L = Σ grad_output ⊙ output + Σ grad_h_n ⊙ h_n + Σ grad_c_n ⊙ c_n, so one backward feeds all three.
        Tensor loss = F.Add(F.Add(F.Sum(F.Mul(result.Output, fx.Load("grad_output"))), F.Sum(F.Mul(result.Last.H, fx.Load("grad_h_n")))),
            F.Sum(F.Mul(result.Last.C, fx.Load("grad_c_n"))));
        loss.Backward();

        var r = new Dictionary<string, Tensor>
        {
            ["output"] = result.Output, ["h_n"] = result.Last.H, ["c_n"] = result.Last.C,
            ["grad_input"] = input.Grad!, ["grad_h0"] = h0.Grad!, ["grad_c0"] = c0.Grad!,
        };
        foreach ((string name, Tensor p) in lstm.NamedParameters()) r["grad_" + name] = p.Grad!;
        return r;
    }

    /// <summary>The tiny REINFORCE controller of the case: parameters named as in PyTorch's state dict.</summary>
    private sealed class TinyController : Module
    {
        public Tensor StartInput { get; }
        public Embedding Actions { get; }
        public LstmCell Cell { get; }
        public Linear Head { get; }

        public TinyController(int numActions, int embeddingDim, int hidden)
        {
            StartInput = RegisterParameter("g_emb", Tensor.Zeros(1, embeddingDim));
            Actions = RegisterModule("embedding", new Embedding(numActions, embeddingDim));
            Cell = RegisterModule("lstm_cell", new LstmCell(embeddingDim, hidden));
            Head = RegisterModule("head", new Linear(hidden, numActions));
        }

        /// <summary>Log-probabilities [steps, V] of each decision, feeding back the given actions.</summary>
        public Tensor LogProbs(long[] actions)
        {
            LstmState state = new(Tensor.Zeros(1, Cell.HiddenSize), Tensor.Zeros(1, Cell.HiddenSize));
            Tensor x = StartInput;
            var steps = new Tensor[actions.Length];
            for (int t = 0; t < actions.Length; t++)
            {
                state = Cell.Forward(x, state);
                steps[t] = F.LogSoftmax(Head.Forward(state.H));
                x = Actions.Forward([actions[t]]);
            }
            return F.Reshape(F.Stack(steps), actions.Length, -1);
        }
    }

    /// <summary>One REINFORCE loss with entropy bonus on a given action sequence, and the gradients of all parameters.</summary>
    private static Dictionary<string, Tensor> ControllerStep(FixtureCase fx)
    {
        Assert.Equal("zeros", fx.Params.GetProperty("initial_state").GetString());
        Assert.Equal("g_emb", fx.Params.GetProperty("first_input").GetString());
        int v = fx.Int("num_actions");
        var controller = new TinyController(v, fx.Int("embedding_dim"), fx.Int("hidden_size"));
        string[] order = fx.Params.GetProperty("parameter_order").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(order, controller.NamedParameters().Select(p => p.Name));
        controller.LoadStateDict(order.ToDictionary(n => n, fx.Load));

        long[] actions = fx.LoadInt64("actions");
        Assert.Equal(fx.Int("num_steps"), actions.Length);
        float advantage = fx.Load("advantage").Item();
        Tensor logProbs = controller.LogProbs(actions);

        // Σ_t log p(actions[t]) as a masked sum; entropy Σ_t −Σ_k p_tk·log p_tk, differentiated through both factors.
        // p = softmax(log p) equals exp(log p) here, and the two give the same gradient with respect to the logits
        // (they differ only along the all-ones direction, which log-softmax's backward removes).
        Tensor chosen = Tensor.Zeros(actions.Length, v);
        for (int t = 0; t < actions.Length; t++) chosen.Span[t * v + (int)actions[t]] = 1f;
        Tensor sumLogProb = F.Sum(F.Mul(logProbs, chosen));
        Tensor sumEntropy = F.Scale(F.Sum(F.Mul(F.Softmax(logProbs), logProbs)), -1f);
        Tensor loss = F.Sub(F.Scale(sumLogProb, -advantage), F.Scale(sumEntropy, (float)fx.Double("entropy_coef")));
        loss.Backward();

        var r = new Dictionary<string, Tensor>
        {
            ["log_probs"] = logProbs, ["sum_log_prob"] = sumLogProb, ["sum_entropy"] = sumEntropy, ["loss"] = loss,
        };
        foreach ((string name, Tensor p) in controller.NamedParameters()) r["grad_" + name] = p.Grad!;
        return r;
    }
}
