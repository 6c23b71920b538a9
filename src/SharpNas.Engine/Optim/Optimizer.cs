namespace SharpNas.Engine.Optim;

/// <summary>Base of the optimizers: a list of parameters, a learning rate a schedule may change, and per-parameter
/// state kept by position (so that it can be saved and restored with the parameters' order).</summary>
public abstract class Optimizer
{
    /// <summary>The parameters updated by <see cref="Step"/>.</summary>
    protected IReadOnlyList<Tensor> Params { get; }

    /// <summary>Current learning rate.</summary>
    public double LearningRate { get; set; }

    /// <summary>Steps taken so far.</summary>
    public long StepCount { get; protected set; }

    /// <summary>Creates the optimizer.</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, double lr)
    {
        Params = parameters.ToArray();
        if (Params.Count == 0) throw new ArgumentException($"{GetType().Name}: no parameters to optimise");
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), $"{GetType().Name}: learning rate must be non-negative, got {lr}");
        LearningRate = lr;
    }

    /// <summary>Updates every parameter that has a gradient.</summary>
    public abstract void Step();

    /// <summary>Clears every parameter's gradient.</summary>
    public void ZeroGrad()
    {
        foreach (Tensor p in Params) p.Grad?.Span.Clear();
    }

    /// <summary>The optimizer's per-parameter state tensors by name (<c>{index}.{kind}</c>), for checkpoints.</summary>
    public abstract IEnumerable<(string Name, float[] Values)> State();

    /// <summary>Restores state written by <see cref="State"/>.</summary>
    public abstract void LoadState(IReadOnlyDictionary<string, float[]> state, long stepCount);

    /// <summary>Rescales all gradients so that their global L2 norm is at most <paramref name="maxNorm"/>;
    /// returns the norm before clipping (PyTorch's <c>clip_grad_norm_</c>).</summary>
    public static double ClipGradNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        var grads = parameters.Where(p => p.Grad is not null).Select(p => p.Grad!).ToArray();
        double sq = 0;
        foreach (Tensor g in grads)
        {
            double n = System.Numerics.Tensors.TensorPrimitives.Norm(g.Span);
            sq += n * n;
        }
        double norm = Math.Sqrt(sq);
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
            foreach (Tensor g in grads) System.Numerics.Tensors.TensorPrimitives.Multiply(g.Span, (float)scale, g.Span);
        return norm;
    }
}
