namespace SharpNas.Search.Importance;

/// <summary>Options of <see cref="PlsVip"/>. Defaults: 2 components, sklearn's default power iteration.</summary>
public sealed record PlsVipOptions
{
    /// <summary>Number of PLS components k (default 2, as the authors). Must be in [1, features].</summary>
    public int Components { get; init; } = 2;

    /// <summary>How each weight vector is found (default <see cref="PlsWeights.SklearnDefault"/>).</summary>
    public PlsWeights Weights { get; init; } = PlsWeights.SklearnDefault;

    /// <summary>Power-iteration cap for <see cref="PlsWeights.SklearnDefault"/> (sklearn: 500).</summary>
    public int MaxIterations { get; init; } = 500;

    /// <summary>Stop when ‖w − w_old‖² is below this (sklearn: 1e-6; note the square).</summary>
    public double Tolerance { get; init; } = 1e-6;

    /// <summary>With <see cref="PlsWeights.SklearnDefault"/> and at most this many features, the power iteration runs
    /// on the p×p / p×q / q×q cross-products (cost independent of the iteration count after one n·p² pass);
    /// above it, directly on the n×p data (n·p per iteration, no p×p matrix). Default 1024.</summary>
    public int MaxGramFeatures { get; init; } = 1024;

    internal void Validate()
    {
        if (Components < 1) throw new ArgumentOutOfRangeException(nameof(Components), Components, "PlsVipOptions.Components must be >= 1");
        if (MaxIterations < 1) throw new ArgumentOutOfRangeException(nameof(MaxIterations), MaxIterations, "PlsVipOptions.MaxIterations must be >= 1");
        if (!(Tolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(Tolerance), Tolerance, "PlsVipOptions.Tolerance must be >= 0");
        if (!Enum.IsDefined(Weights)) throw new ArgumentOutOfRangeException(nameof(Weights), Weights, "PlsVipOptions.Weights is not a PlsWeights value");
    }
}

/// <summary>Options of <see cref="InfFs"/>. Defaults: α = 0.5, r = 0.99/ρ(A).</summary>
public sealed record InfFsOptions
{
    /// <summary>Mixing weight α of A = α·C + (1−α)·Σ, in [0, 1] (default 0.5).</summary>
    public double Alpha { get; init; } = 0.5;

    /// <summary>r = RadiusFactor / ρ(A); must be in (0, 1) for the series to converge (default 0.99).</summary>
    public double RadiusFactor { get; init; } = 0.99;

    internal void Validate()
    {
        if (!(Alpha >= 0 && Alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "InfFsOptions.Alpha must be in [0, 1]");
        InfinitePaths.ValidateFactor(RadiusFactor, "InfFsOptions.RadiusFactor");
    }
}

/// <summary>Options of <see cref="IlFs"/>. Defaults: 3 tokens, 2 latent factors, 15 EM iterations, seed 0,
/// supervised initialisation, r = 0.99/ρ(G).</summary>
public sealed record IlFsOptions
{
    /// <summary>Number of tokens each value is quantised into (default 3). At least 2.</summary>
    public int Tokens { get; init; } = 3;

    /// <summary>Number of PLSA latent factors (default 2: relevant / irrelevant). At least 2.</summary>
    public int LatentFactors { get; init; } = 2;

    /// <summary>EM iterations, always run in full (default 15).</summary>
    public int EmIterations { get; init; } = 15;

    /// <summary>Seed of the initial jitter (<see cref="IlFsInitialization.Supervised"/>) or the random start
    /// (<see cref="IlFsInitialization.Random"/>), via <see cref="SharpNas.Engine.SeededRandom"/>.</summary>
    public ulong Seed { get; init; }

    /// <summary>How the PLSA starts (default <see cref="IlFsInitialization.Supervised"/>).</summary>
    public IlFsInitialization Initialization { get; init; } = IlFsInitialization.Supervised;

    /// <summary>Relative amplitude of the seeded multiplicative jitter on the supervised start (default 0.01; 0 = none).</summary>
    public double InitialJitter { get; init; } = 0.01;

    /// <summary>r = RadiusFactor / ρ(G), in (0, 1) (default 0.99).</summary>
    public double RadiusFactor { get; init; } = 0.99;

    internal void Validate()
    {
        if (Tokens < 2) throw new ArgumentOutOfRangeException(nameof(Tokens), Tokens, "IlFsOptions.Tokens must be >= 2");
        if (LatentFactors < 2) throw new ArgumentOutOfRangeException(nameof(LatentFactors), LatentFactors, "IlFsOptions.LatentFactors must be >= 2");
        if (EmIterations < 0) throw new ArgumentOutOfRangeException(nameof(EmIterations), EmIterations, "IlFsOptions.EmIterations must be >= 0");
        if (!(InitialJitter >= 0 && InitialJitter < 1)) throw new ArgumentOutOfRangeException(nameof(InitialJitter), InitialJitter, "IlFsOptions.InitialJitter must be in [0, 1)");
        if (!Enum.IsDefined(Initialization)) throw new ArgumentOutOfRangeException(nameof(Initialization), Initialization, "IlFsOptions.Initialization is not an IlFsInitialization value");
        InfinitePaths.ValidateFactor(RadiusFactor, "IlFsOptions.RadiusFactor");
    }
}

/// <summary>The options of all three criteria, for <see cref="FeatureImportance.Create"/>.</summary>
public sealed record ImportanceOptions
{
    /// <summary>PLS-VIP options.</summary>
    public PlsVipOptions Pls { get; init; } = new();

    /// <summary>inf-FS options.</summary>
    public InfFsOptions InfFs { get; init; } = new();

    /// <summary>il-FS options.</summary>
    public IlFsOptions IlFs { get; init; } = new();
}

/// <summary>Creates a criterion from its enum value.</summary>
public static class FeatureImportance
{
    /// <summary>The criterion <paramref name="criterion"/> with the matching options from <paramref name="options"/>
    /// (defaults when null).</summary>
    public static IFeatureImportance Create(ImportanceCriterion criterion, ImportanceOptions? options = null)
    {
        options ??= new ImportanceOptions();
        return criterion switch
        {
            ImportanceCriterion.PlsVip => new PlsVip(options.Pls),
            ImportanceCriterion.InfFs => new InfFs(options.InfFs),
            ImportanceCriterion.IlFs => new IlFs(options.IlFs),
            _ => throw new ArgumentOutOfRangeException(nameof(criterion), criterion, "not an ImportanceCriterion value"),
        };
    }
}
