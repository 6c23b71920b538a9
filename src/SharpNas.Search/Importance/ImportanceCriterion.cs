namespace SharpNas.Search.Importance;

/// <summary>The feature-importance criteria of the stage-wise search (Jordao et al.): how important the
/// features a stage outputs are. A stage's score is the mean importance of its features.</summary>
public enum ImportanceCriterion
{
    /// <summary>Partial least squares (NIPALS PLS2 against the one-hot labels) and the variable importance in
    /// projection (VIP) of each feature. Supervised. The authors' code uses this one.</summary>
    PlsVip,

    /// <summary>Infinite feature selection (Roffo et al., ICCV 2015): paths of every length on a graph whose edges
    /// mix decorrelation (Spearman) and spread (standard deviation). Unsupervised.</summary>
    InfFs,

    /// <summary>Infinite latent feature selection (Roffo et al., ICCV 2017): a PLSA over discriminative tokens gives
    /// P(relevant | feature); the same infinite-path step ranks the features. Supervised.</summary>
    IlFs,
}

/// <summary>How <see cref="PlsVip"/> finds each component's weight vector w_a.</summary>
public enum PlsWeights
{
    /// <summary>scikit-learn's power iteration with its defaults (max 500 iterations, stop when the squared change
    /// of w is below 1e-6), replicated step by step: what a Python/sklearn pipeline (the authors') computes.
    /// It stops early, so the weights differ from the converged ones by up to ~1e-2.</summary>
    SklearnDefault,

    /// <summary>The converged answer: w_a = first left singular vector of X_kᵀY_k (dense SVD).</summary>
    Exact,
}

/// <summary>How <see cref="IlFs"/> initialises its PLSA before the EM iterations.</summary>
public enum IlFsInitialization
{
    /// <summary>From the labels (as the authors do): factor 0 ("relevant") starts on the discriminative tokens,
    /// P(relevant | feature) starts at the feature's share of discriminative tokens; a small seeded jitter is applied.</summary>
    Supervised,

    /// <summary>Plain PLSA: every distribution starts seeded-random; the relevant factor is identified after EM as
    /// the one that puts the most mass on discriminative tokens.</summary>
    Random,
}
