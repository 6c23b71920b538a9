using SharpNas.Engine;
using SharpNas.Search.Spaces.Epnas;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>
/// Performance prediction (paper §3.4, §4): children are trained with a larger batch and a proportionally larger
/// learning rate, with a cosine decay that reaches zero at an early stop, so that they rank as fully trained children
/// would in a fraction of the time. The paper trains children for 20 epochs at batch 128 normally, and with prediction
/// at batch 1024, learning rate 0.5, stopping at 10 epochs.
/// <para><b>Choice — defaults scaled to the data</b>: SharpNas's searches train children on a few thousand images, where a
/// batch of 1024 would leave two steps per epoch. The defaults keep the paper's direction at a ratio the data allows:
/// batch × <see cref="DefaultBatchFactor"/>, learning rate × the same factor (the linear scaling the paper cites), and
/// half the epochs (at least one). The cosine is over the shortened run (it reaches zero at the early stop: the
/// "aggressive decay"), not the full schedule cut short; another <c>--schedule</c> is likewise laid over the shortened run.</para>
/// </summary>
public static class EpnasPrediction
{
    /// <summary>The default factor on batch size and learning rate.</summary>
    public const int DefaultBatchFactor = 4;

    /// <summary>Epochs of the prediction schedule by default: half the full schedule's, at least one.</summary>
    public static int DefaultEpochs(int fullEpochs) => Math.Max(1, (fullEpochs + 1) / 2);

    /// <summary>The prediction schedule derived from <paramref name="full"/>: the given (or default) epochs, batch and
    /// learning rate, with <paramref name="full"/>'s <see cref="TrainerOptions.ScheduleName"/> (default cosine, to zero)
    /// over those epochs.</summary>
    public static TrainerOptions Schedule(TrainerOptions full, int? epochs = null, int? batch = null, double? learningRate = null)
    {
        int e = epochs ?? DefaultEpochs(full.Epochs);
        int b = batch ?? full.BatchSize * DefaultBatchFactor;
        double lr = learningRate ?? full.LearningRate * ((double)b / full.BatchSize);
        if (e < 1) throw new ArgumentException($"--predict-epochs must be at least 1, got {e}");
        if (b < 1) throw new ArgumentException($"--predict-batch must be at least 1, got {b}");
        if (!(lr > 0)) throw new ArgumentException($"--predict-lr must be positive, got {lr}");
        return full with { Epochs = e, BatchSize = b, LearningRate = lr, Schedule = null };
    }

    /// <summary>Kendall's τ-b between two paired samples (ties in either are allowed; 0 when either is constant).</summary>
    public static double KendallTau(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Kendall's tau: {a.Count} values paired with {b.Count}");
        long concordant = 0, discordant = 0, tiesA = 0, tiesB = 0;
        for (int i = 0; i < a.Count; i++)
            for (int j = i + 1; j < a.Count; j++)
            {
                int sa = Math.Sign(a[i] - a[j]), sb = Math.Sign(b[i] - b[j]);
                if (sa == 0 && sb == 0) continue;
                if (sa == 0) tiesA++;
                else if (sb == 0) tiesB++;
                else if (sa == sb) concordant++;
                else discordant++;
            }
        double denominator = Math.Sqrt((double)(concordant + discordant + tiesA) * (concordant + discordant + tiesB));
        return denominator == 0 ? 0 : (concordant - discordant) / denominator;
    }

    /// <summary><paramref name="count"/> distinct networks for a prediction check: <paramref name="start"/> grown by 1, 2, …
    /// random valid insertions (cycling up to <paramref name="maxInsertions"/>), each scaled by a random valid scale
    /// action, so the sample spans sizes as a search's children do.</summary>
    public static IReadOnlyList<TG> SampleChildren<TG>(IEpnasActionSpace<TG> space, TG start, int count, int maxInsertions, SeededRandom rng)
        where TG : class, IEpnasGenotype
    {
        var seen = new HashSet<string>();
        var children = new List<TG>();
        for (int attempt = 0; children.Count < count && attempt < 50 * count; attempt++)
        {
            SeededRandom r = rng.Derive("child", attempt);
            TG g = EpnasSeeds.Random(space, start, 1 + attempt % Math.Max(1, maxInsertions), r);
            g = EpnasRandomActions.Sample(space, g, r).Child;
            if (seen.Add(g.ToJson().ToJsonString())) children.Add(g);
        }
        return children;
    }
}
