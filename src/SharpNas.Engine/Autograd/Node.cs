namespace SharpNas.Engine.Autograd;

/// <summary>
/// One recorded operation of the graph: it knows its inputs and how to turn the gradient of its output into
/// gradients of its inputs. Each differentiable op in <c>Functional/</c> defines its node next to its forward.
/// </summary>
internal abstract class Node
{
    /// <summary>The op's name, used in error messages.</summary>
    public abstract string Op { get; }

    /// <summary>The tensors this op read; gradients flow to those with <see cref="Tensor.RequiresGrad"/>.</summary>
    public Tensor[] Inputs = [];

    /// <summary>Adds dLoss/dInput into each input that requires grad (via
    /// <see cref="Tensor.GradSpanForAccumulation"/> or <see cref="Tensor.AccumulateGrad"/>), given dLoss/dOutput.</summary>
    public abstract void Backward(Tensor output, Tensor gradOutput);
}

/// <summary>Whether ops record the graph on this thread. Recording is on by default; evaluation turns it off
/// with <c>using var _ = GradMode.NoGrad();</c>.</summary>
public static class GradMode
{
    [ThreadStatic] private static bool t_disabled;

    /// <summary>True when ops record the graph.</summary>
    public static bool IsEnabled => !t_disabled;

    /// <summary>Turns graph recording off until the returned scope is disposed.</summary>
    public static NoGradScope NoGrad() => new(t_disabled);

    /// <summary>Restores the previous grad mode on dispose.</summary>
    public readonly struct NoGradScope : IDisposable
    {
        private readonly bool _previous;
        internal NoGradScope(bool previous) { _previous = previous; t_disabled = true; }
        /// <inheritdoc/>
        public void Dispose() => t_disabled = _previous;
    }

    /// <summary>Whether an op on these inputs must record a node.</summary>
    internal static bool ShouldRecord(Tensor a) => !t_disabled && a.RequiresGrad;
    internal static bool ShouldRecord(Tensor a, Tensor b) => !t_disabled && (a.RequiresGrad || b.RequiresGrad);
    internal static bool ShouldRecord(Tensor a, Tensor? b, Tensor? c) =>
        !t_disabled && (a.RequiresGrad || (b?.RequiresGrad ?? false) || (c?.RequiresGrad ?? false));
    internal static bool ShouldRecord(ReadOnlySpan<Tensor> xs)
    {
        if (t_disabled) return false;
        foreach (Tensor x in xs) if (x.RequiresGrad) return true;
        return false;
    }

    /// <summary>Attaches <paramref name="node"/> to <paramref name="output"/>, which then requires grad.</summary>
    internal static Tensor Record(Tensor output, Node node, params Tensor[] inputs)
    {
        node.Inputs = inputs;
        output.GradFn = node;
        output.RequiresGrad = true;
        return output;
    }
}

/// <summary>Reverse-mode traversal: orders the graph below a tensor and runs each node's backward once.</summary>
internal static class Backprop
{
    public static void Run(Tensor root, Tensor? gradient)
    {
        if (!root.RequiresGrad)
            throw new InvalidOperationException($"Backward: {root} does not require grad (no parameter or input on its path requires grad, or it was computed under NoGrad)");
        if (gradient is null && root.Size != 1)
            throw new InvalidOperationException($"Backward: {root} is not a scalar; pass the upstream gradient");
        if (gradient is not null && !gradient.HasShape(root.Shape))
            throw new ArgumentException($"Backward: gradient {gradient.ShapeString} does not match {root}");

        // Gradients of intermediate tensors left over from an earlier pass through this graph (a second Backward,
        // or another loss sharing these tensors) must not be sent down again: only leaves accumulate across passes.
        List<Tensor> order = TopologicalOrder(root);
        foreach (Tensor t in order) t.Grad = null;

        if (gradient is null) root.GradSpanForAccumulation()[0] += 1f;
        else root.AccumulateGrad(gradient.Span);

        for (int i = order.Count - 1; i >= 0; i--)
        {
            Tensor t = order[i];
            Node node = t.GradFn!;
            if (t.Grad is null) continue;   // no gradient reached this output
            node.Backward(t, t.Grad);
            foreach (Tensor input in node.Inputs)
            {
                if (input.Grad is not null && !input.Grad.HasShape(input.Shape))
                    throw new InvalidOperationException($"Backward of {node.Op}: gradient {input.Grad.ShapeString} does not match input {input}");
            }
            // Every consumer of t ran before its producer (reverse topological order), so t's gradient is complete
            // and now consumed: give its buffer back so later gradients of this pass reuse it (as PyTorch frees
            // non-leaf gradients). Leaves keep theirs; so does the root.
            if (!ReferenceEquals(t, root)) t.ReleaseGrad();
        }
    }

    /// <summary>Tensors with a grad function, ordered so that every tensor comes after the tensors it was computed from.</summary>
    private static List<Tensor> TopologicalOrder(Tensor root)
    {
        var order = new List<Tensor>();
        var visited = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(Tensor T, int Next)>();
        if (root.GradFn is null) return order;
        stack.Push((root, 0));
        visited.Add(root);
        while (stack.Count > 0)
        {
            (Tensor t, int next) = stack.Pop();
            Tensor[] inputs = t.GradFn!.Inputs;
            if (next < inputs.Length)
            {
                stack.Push((t, next + 1));
                Tensor child = inputs[next];
                if (child.GradFn is not null && child.RequiresGrad && visited.Add(child)) stack.Push((child, 0));
            }
            else order.Add(t);
        }
        return order;
    }
}
