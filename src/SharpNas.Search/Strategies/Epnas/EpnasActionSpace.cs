using SharpNas.Search.Spaces.Epnas;
using SharpNas.Training;

namespace SharpNas.Search.Strategies.Epnas;

/// <summary>One categorical decision the policy emits, with its own softmax head.</summary>
public sealed record EpnasDecisionKind(string Name, int Choices);

/// <summary>The next decision of an action: its kind, which choices are valid (invalid ones get probability 0), and an
/// optional additive log-prior (the insert position's check table).</summary>
public sealed record EpnasDecisionRequest(int Kind, bool[] Mask, float[]? LogPrior = null);

/// <summary>How the insert position is drawn (paper §3.2's "check table": the position distribution depends on the
/// current number of layers). The paper's formula did not survive in the text; see docs/epnas.md.</summary>
public enum CheckTablePrior
{
    /// <summary>Positions 0..L (L = current layers or branches) are allowed, the policy's logits decide.</summary>
    Uniform,
    /// <summary>As <see cref="Uniform"/>, plus a log-prior that makes appending at the end (position L) L + 1 times less
    /// likely than each inner position, to push insertions inside the network.</summary>
    Interior,
}

/// <summary>Settings of the EPNAS actions (paper §3.2–3.3). Defaults are SharpNas's choices where the paper is silent.</summary>
public sealed record EpnasActionOptions
{
    /// <summary>G: the scale LSTM scales G contiguous groups of layers (or branches), one decision pair per group.</summary>
    public int ScaleGroups { get; init; } = 4;
    /// <summary>The channel scale table: steps along the channel value list ([16, 32, 64, 96, 128, 256] or
    /// [8, 12, 16, 24, 32]); must contain 0.</summary>
    public IReadOnlyList<int> ChannelScaleSteps { get; init; } = [-1, 0, 1];
    /// <summary>The filter-width scale table: steps along [1, 3, 5, 7]; must contain 0.</summary>
    public IReadOnlyList<int> WidthScaleSteps { get; init; } = [-1, 0, 1];
    /// <summary>Most layers (or branches) an insertion may reach; sizes the position heads.</summary>
    public int MaxElements { get; init; } = 16;
    /// <summary>The insert position's check-table prior.</summary>
    public CheckTablePrior Prior { get; init; } = CheckTablePrior.Uniform;

    /// <summary>Checks the settings.</summary>
    public EpnasActionOptions Validated(int tableMax)
    {
        if (ScaleGroups < 1) throw new ArgumentException($"EPNAS actions: scale groups must be at least 1, found {ScaleGroups}");
        if (!ChannelScaleSteps.Contains(0) || !WidthScaleSteps.Contains(0)) throw new ArgumentException("EPNAS actions: each scale table must contain the step 0 (no change)");
        if (MaxElements < 1 || MaxElements > tableMax) throw new ArgumentException($"EPNAS actions: max elements must be in 1..{tableMax}, found {MaxElements}");
        return this;
    }
}

/// <summary>
/// What the EPNAS policy acts on: a search pattern (layer-by-layer or module) described as categorical decisions.
/// An action is: one scale decision pair (channel step, filter-width step) per group, applied to the genotype, then an
/// insert/remove/keep decision sequence on the scaled genotype whose next decision and valid choices depend on the
/// decisions so far. Invalid choices are masked, so every sampled action yields a valid genotype.
/// </summary>
public interface IEpnasActionSpace<TG> where TG : class, IArchitecture
{
    /// <summary>Every decision kind; kinds 0 and 1 are the channel and filter-width scale decisions.</summary>
    IReadOnlyList<EpnasDecisionKind> Kinds { get; }
    /// <summary>The settings.</summary>
    EpnasActionOptions Options { get; }
    /// <summary>Vocabulary of the layer-embedding table.</summary>
    int TokenCount { get; }
    /// <summary>The embedding tokens of each layer (or branch); a layer's embedding is the sum of its tokens' rows.</summary>
    int[][] Tokens(TG genotype);
    /// <summary>The scale groups: contiguous element indices.</summary>
    IReadOnlyList<int[]> Groups(TG genotype);
    /// <summary>Valid choices of a scale decision (<paramref name="channels"/> true: channel steps) for a group: a step
    /// is valid when every layer it changes stays inside its value list.</summary>
    bool[] ScaleMask(TG genotype, int[] group, bool channels);
    /// <summary>Applies one channel choice and one width choice per group.</summary>
    TG Scale(TG genotype, IReadOnlyList<int> channelChoices, IReadOnlyList<int> widthChoices);
    /// <summary>The next insert-LSTM decision after <paramref name="soFar"/>, or null when the action is complete.</summary>
    EpnasDecisionRequest? NextInsert(TG genotype, IReadOnlyList<int> soFar);
    /// <summary>Applies a complete insert/remove/keep decision sequence.</summary>
    TG Insert(TG genotype, IReadOnlyList<int> decisions);
}

/// <summary>Decision kind indices shared by both patterns and helpers for the scale tables.</summary>
public static class EpnasDecisions
{
    /// <summary>Kind of the channel scale decision.</summary>
    public const int ChannelScale = 0;
    /// <summary>Kind of the filter-width scale decision.</summary>
    public const int WidthScale = 1;
    /// <summary>Kind of the keep / insert / remove decision.</summary>
    public const int ActionKind = 2;
    /// <summary>Choice of <see cref="ActionKind"/>: keep.</summary>
    public const int Keep = 0;
    /// <summary>Choice of <see cref="ActionKind"/>: insert.</summary>
    public const int Insert = 1;
    /// <summary>Choice of <see cref="ActionKind"/>: remove.</summary>
    public const int Remove = 2;

    /// <summary>Checks that <paramref name="d"/> is a complete insert/remove/keep sequence of unmasked choices for
    /// <paramref name="genotype"/>, replaying <see cref="IEpnasActionSpace{TG}.NextInsert"/> decision by decision.</summary>
    public static void CheckInsert<TG>(IEpnasActionSpace<TG> space, TG genotype, IReadOnlyList<int> d) where TG : class, IArchitecture
    {
        for (int i = 0; i <= d.Count; i++)
        {
            EpnasDecisionRequest? r = space.NextInsert(genotype, d.Take(i).ToArray());
            if (i == d.Count) { if (r is not null) throw new ArgumentException($"EPNAS insert: the decisions [{string.Join(", ", d)}] are incomplete"); break; }
            if (r is null) throw new ArgumentException($"EPNAS insert: the decisions [{string.Join(", ", d)}] are too many");
            if (d[i] < 0 || d[i] >= r.Mask.Length || !r.Mask[d[i]])
                throw new InvalidOperationException($"EPNAS insert: choice {d[i]} of decision {space.Kinds[r.Kind].Name} is masked");
        }
    }

    /// <summary>G = min(groups, n) contiguous groups of n elements, as equal as possible.</summary>
    public static IReadOnlyList<int[]> Partition(int n, int groups)
    {
        int g = Math.Min(groups, n);
        return Enumerable.Range(0, g).Select(i => Enumerable.Range(i * n / g, (i + 1) * n / g - i * n / g).ToArray()).ToArray();
    }

    /// <summary>Valid steps for values (null = not scaled) along <paramref name="table"/>.</summary>
    public static bool[] StepMask(IReadOnlyList<int> steps, IEnumerable<int?> values, IReadOnlyList<int> table)
    {
        var mask = new bool[steps.Count];
        int[] idx = values.Where(v => v is not null).Select(v => IndexIn(table, v!.Value)).ToArray();
        for (int c = 0; c < steps.Count; c++)
            mask[c] = steps[c] == 0 || (idx.Length > 0 && idx.All(i => i + steps[c] >= 0 && i + steps[c] < table.Count));
        return mask;
    }

    /// <summary>The value <paramref name="step"/> places further along <paramref name="table"/>.</summary>
    public static int Step(IReadOnlyList<int> table, int value, int step)
    {
        int i = IndexIn(table, value) + step;
        if (i < 0 || i >= table.Count) throw new InvalidOperationException($"EPNAS scale: step {step} moves {value} outside [{string.Join(", ", table)}] (a masked choice was applied)");
        return table[i];
    }

    private static int IndexIn(IReadOnlyList<int> table, int value)
    {
        for (int i = 0; i < table.Count; i++) if (table[i] == value) return i;
        throw new InvalidOperationException($"EPNAS scale: {value} is not in [{string.Join(", ", table)}]");
    }

    /// <summary>A mask of <paramref name="size"/> with the first <paramref name="count"/> choices set.</summary>
    public static bool[] Prefix(int size, int count)
    {
        var m = new bool[size];
        for (int i = 0; i < Math.Min(size, count); i++) m[i] = true;
        return m;
    }

    /// <summary>The check-table log-prior over <paramref name="size"/> positions when <paramref name="count"/> elements
    /// exist, or null for <see cref="CheckTablePrior.Uniform"/>.</summary>
    public static float[]? PositionPrior(CheckTablePrior prior, int size, int count)
    {
        if (prior == CheckTablePrior.Uniform || count == 0 || count >= size) return null;
        var p = new float[size];
        p[count] = -MathF.Log(count + 1);
        return p;
    }
}

/// <summary>
/// The scale action of both patterns: which elements (layers or branches) are scaled, where their channels and
/// filter width are read and written, and along which channel table they move. <see cref="Mask"/> gives the valid
/// steps of a group; <see cref="Apply"/> checks every group's choices against them and moves the group's scaled
/// elements.
/// </summary>
/// <param name="IsScaled">Whether an element has a conv (only those are scaled).</param>
/// <param name="Channels">An element's channels.</param>
/// <param name="FilterWidth">An element's filter width.</param>
/// <param name="With">The element with new channels and filter width.</param>
/// <param name="ChannelTable">The channel values a step moves along.</param>
public sealed record EpnasScaling<T>(Func<T, bool> IsScaled, Func<T, int> Channels, Func<T, int> FilterWidth, Func<T, int, int, T> With,
    IReadOnlyList<int> ChannelTable)
{
    /// <summary>Valid channel (or filter-width) steps of <paramref name="group"/>: a step is valid when every scaled
    /// element of the group stays in its table; a group without scaled elements takes only step 0.</summary>
    public bool[] Mask(EpnasActionOptions options, IReadOnlyList<T> elements, int[] group, bool channels)
    {
        IEnumerable<T> scaled = group.Select(i => elements[i]).Where(IsScaled);
        return channels
            ? EpnasDecisions.StepMask(options.ChannelScaleSteps, scaled.Select(e => (int?)Channels(e)), ChannelTable)
            : EpnasDecisions.StepMask(options.WidthScaleSteps, scaled.Select(e => (int?)FilterWidth(e)), EpnasTables.FilterWidths);
    }

    /// <summary>The elements after one channel and one width choice per group; a masked choice throws.</summary>
    public T[] Apply(EpnasActionOptions options, IReadOnlyList<T> elements, IReadOnlyList<int[]> groups, IReadOnlyList<int> channelChoices,
        IReadOnlyList<int> widthChoices)
    {
        if (channelChoices.Count != groups.Count || widthChoices.Count != groups.Count)
            throw new ArgumentException($"EPNAS scale: expected {groups.Count} choices of each kind, found {channelChoices.Count} and {widthChoices.Count}");
        T[] result = elements.ToArray();
        for (int gi = 0; gi < groups.Count; gi++)
        {
            if (!Mask(options, elements, groups[gi], true)[channelChoices[gi]] || !Mask(options, elements, groups[gi], false)[widthChoices[gi]])
                throw new InvalidOperationException($"EPNAS scale: group {gi}'s choice is masked");
            int cs = options.ChannelScaleSteps[channelChoices[gi]], ws = options.WidthScaleSteps[widthChoices[gi]];
            foreach (int i in groups[gi])
                if (IsScaled(result[i]))
                    result[i] = With(result[i], EpnasDecisions.Step(ChannelTable, Channels(result[i]), cs), EpnasDecisions.Step(EpnasTables.FilterWidths, FilterWidth(result[i]), ws));
        }
        return result;
    }
}
