namespace SharpNas.Engine.Optim;

/// <summary>A learning-rate schedule: the rate to use during epoch <c>e</c> (0-based; fractional values give the
/// rate part-way through an epoch, which the trainer uses to anneal per step), from a base rate.
/// Schedules are pure functions of the epoch, so a resumed run gets exactly the rates of an uninterrupted one.</summary>
public abstract record LrSchedule
{
    /// <summary>The rate for epoch <paramref name="epoch"/>.</summary>
    public abstract double At(double epoch, double baseLr);

    /// <summary>Parses a schedule name: <c>constant</c>, <c>cosine</c> (over <paramref name="epochs"/>),
    /// <c>multistep</c> (×0.1 at 50% and 75%), <c>onecycle</c> (over <paramref name="epochs"/>), optionally prefixed by
    /// <c>warmup{N}-</c>.</summary>
    public static LrSchedule Parse(string text, int epochs)
    {
        string t = text.Trim().ToLowerInvariant();
        if (t.StartsWith("warmup", StringComparison.Ordinal))
        {
            int dash = t.IndexOf('-');
            if (dash < 0 || !int.TryParse(t.AsSpan(6, dash - 6), out int warm) || warm < 1)
                throw new FormatException($"schedule \"{text}\": expected warmupN-REST, e.g. warmup5-cosine");
            return new Sequential(new LinearWarmup(1.0 / 3, warm), Parse(t[(dash + 1)..], epochs - warm), warm);
        }
        return t switch
        {
            "constant" or "const" => new Constant(),
            "cosine" => new Cosine(Math.Max(1, epochs), 0),
            "multistep" or "step" => new MultiStep([Math.Max(1, epochs / 2), Math.Max(1, epochs * 3 / 4)], 0.1),
            "onecycle" => new OneCycle(Math.Max(1, epochs)),
            _ => throw new FormatException($"schedule \"{text}\": expected constant, cosine, multistep, onecycle, or warmupN-<one of them>"),
        };
    }

    /// <summary>The base rate throughout.</summary>
    public sealed record Constant : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) => baseLr;
    }

    /// <summary>PyTorch's CosineAnnealingLR in closed form: eta_min + (base − eta_min)(1 + cos(π·e/T_max))/2
    /// (it does not stop at T_max).</summary>
    public sealed record Cosine(int TMax, double EtaMin) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) => EtaMin + (baseLr - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
    }

    /// <summary>
    /// PyTorch's OneCycleLR with its defaults (cosine annealing, two phases), in closed form over epochs, the base rate
    /// as the peak: from base/<paramref name="DivFactor"/> up to base over the first <paramref name="PctStart"/> of the
    /// <paramref name="Epochs"/>, then down to base/(DivFactor·<paramref name="FinalDivFactor"/>) at the end, each phase
    /// a half cosine. The rate only: momentum is not cycled.
    /// </summary>
    public sealed record OneCycle(int Epochs, double PctStart = 0.3, double DivFactor = 25, double FinalDivFactor = 1e4) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr)
        {
            double initial = baseLr / DivFactor, final = initial / FinalDivFactor, rise = PctStart * Epochs;
            return epoch < rise
                ? Anneal(initial, baseLr, epoch / rise)
                : Anneal(baseLr, final, Math.Min(1, (epoch - rise) / (Epochs - rise)));
        }

        private static double Anneal(double from, double to, double pct) => to + (from - to) * (1 + Math.Cos(Math.PI * pct)) / 2;
    }

    /// <summary>PyTorch's MultiStepLR: base·γ^(number of milestones ≤ e).</summary>
    public sealed record MultiStep(IReadOnlyList<int> Milestones, double Gamma) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) => baseLr * Math.Pow(Gamma, Milestones.Count(m => m <= epoch));
    }

    /// <summary>PyTorch's LinearLR: factor rises linearly from <paramref name="StartFactor"/> to 1 over
    /// <paramref name="Epochs"/> epochs, then stays at 1.</summary>
    public sealed record LinearWarmup(double StartFactor, int Epochs) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) =>
            baseLr * (epoch >= Epochs ? 1.0 : StartFactor + (1 - StartFactor) * epoch / Epochs);
    }

    /// <summary>PyTorch's SequentialLR: <paramref name="First"/> before <paramref name="Milestone"/>, then
    /// <paramref name="Then"/> with its epoch count restarted at 0.</summary>
    public sealed record Sequential(LrSchedule First, LrSchedule Then, int Milestone) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) =>
            epoch < Milestone ? First.At(epoch, baseLr) : Then.At(epoch - Milestone, baseLr);
    }

    /// <summary>PyTorch's ChainedScheduler: the factors of both schedules multiply, on the same epoch count.</summary>
    public sealed record Chained(LrSchedule A, LrSchedule B) : LrSchedule
    {
        /// <inheritdoc/>
        public override double At(double epoch, double baseLr) => A.At(epoch, baseLr) * B.At(epoch, baseLr) / baseLr;
    }
}
