using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Functional;

namespace SharpNas.Tests.Engine;

/// <summary>How the tape records, accumulates and releases: the rules every op relies on.</summary>
public sealed class AutogradTests
{
    private static Tensor Leaf(params float[] values)
    {
        Tensor t = Tensor.FromValues(values, values.Length);
        t.RequiresGrad = true;
        return t;
    }

    [Fact]
    public void A_tensor_used_twice_receives_the_sum_of_both_gradients()
    {
        Tensor x = Leaf(1f, -2f, 3f);
        Tensor y = F.Add(F.Scale(x, 2f), x);                // y = 3x
        y.Backward(Tensor.FromValues([1f, 10f, 100f], 3));
        Assert.Equal([3f, 30f, 300f], x.Grad!.ToArray());
    }

    [Fact]
    public void Gradients_of_leaves_accumulate_over_backward_calls_until_cleared()
    {
        Tensor x = Leaf(1f, 2f);
        F.Scale(x, 4f).Backward(Tensor.Full(1f, 2));
        F.Scale(x, 4f).Backward(Tensor.Full(1f, 2));
        Assert.Equal([8f, 8f], x.Grad!.ToArray());
        x.Grad.Span.Clear();
        F.Scale(x, 4f).Backward(Tensor.Full(1f, 2));
        Assert.Equal([4f, 4f], x.Grad!.ToArray());
    }

    [Fact]
    public void A_second_backward_through_the_same_graph_adds_exactly_one_more_gradient()
    {
        // PyTorch with retain_graph: leaves get 2·g. An intermediate's gradient left over from the first pass
        // must not be propagated again.
        Tensor x = Leaf(1f, 2f);
        Tensor h = F.Scale(x, 3f);
        Tensor y = F.Scale(h, 2f);
        y.Backward(Tensor.Full(1f, 2));
        y.Backward(Tensor.Full(1f, 2));
        Assert.Equal([12f, 12f], x.Grad!.ToArray());
    }

    [Fact]
    public void Two_losses_sharing_an_intermediate_each_send_only_their_own_gradient()
    {
        Tensor x = Leaf(1f, 2f);
        Tensor shared = F.Scale(x, 3f);
        Tensor a = F.Scale(shared, 2f), b = F.Scale(shared, 5f);
        a.Backward(Tensor.Full(1f, 2));                     // dx = 6
        b.Backward(Tensor.Full(1f, 2));                     // dx = 15
        Assert.Equal([21f, 21f], x.Grad!.ToArray());
    }

    [Fact]
    public void NoGrad_records_nothing()
    {
        Tensor x = Leaf(1f, -1f);
        Tensor y;
        using (GradMode.NoGrad())
        {
            Assert.False(GradMode.IsEnabled);
            y = F.Relu(F.Scale(x, 2f));
        }
        Assert.True(GradMode.IsEnabled);
        Assert.False(y.RequiresGrad);
        Assert.Null(y.GradFn);
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward(Tensor.Full(1f, 2)));
        Assert.Contains("does not require grad", e.Message);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void NoGrad_scopes_nest_and_restore_the_outer_mode()
    {
        using (GradMode.NoGrad())
        {
            using (GradMode.NoGrad()) Assert.False(GradMode.IsEnabled);
            Assert.False(GradMode.IsEnabled);
        }
        Assert.True(GradMode.IsEnabled);
    }

    [Fact]
    public void Detach_stops_the_gradient_but_shares_the_values()
    {
        Tensor x = Leaf(1f, 2f);
        Tensor d = x.Detach();
        Assert.False(d.RequiresGrad);
        Assert.Equal(x.ToArray(), d.ToArray());
        Tensor y = F.Add(F.Scale(d, 5f), x);               // only the second term reaches x
        y.Backward(Tensor.Full(1f, 2));
        Assert.Equal([1f, 1f], x.Grad!.ToArray());
        x.Span[0] = 7f;
        Assert.Equal(7f, d.Span[0]);
    }

    [Fact]
    public void Backward_flows_through_reshape_views_to_the_original_shape()
    {
        Tensor x = Tensor.FromValues([1f, 2f, 3f, 4f, 5f, 6f], 1, 2, 3, 1);
        x.RequiresGrad = true;
        Tensor flat = F.Flatten(x);                          // [1, 6], a view
        Assert.Equal([1, 6], flat.ShapeArray);
        Tensor y = F.Scale(F.Reshape(flat, 3, 2), 2f);      // a view of a view
        y.Backward(Tensor.FromValues([1f, 2f, 3f, 4f, 5f, 6f], 3, 2));
        Assert.Equal([1, 2, 3, 1], x.Grad!.ShapeArray);
        Assert.Equal([2f, 4f, 6f, 8f, 10f, 12f], x.Grad.ToArray());
        x.Span[5] = -1f;
        Assert.Equal(-1f, flat.Span[5]);                     // shares the data
    }

    [Fact]
    public void Backward_of_a_non_scalar_without_a_gradient_is_refused()
    {
        Tensor y = F.Scale(Leaf(1f, 2f), 2f);
        var e = Assert.Throws<InvalidOperationException>(() => y.Backward());
        Assert.Contains("not a scalar", e.Message);
    }

    [Fact]
    public void A_step_scope_returns_every_buffer_it_rented()
    {
        var pool = new TensorPool();
        Tensor w = Leaf(0.5f, -0.5f, 1f, 2f);
        for (int step = 0; step < 3; step++)
        {
            using (pool.BeginStep())
            {
                Tensor x = Tensor.FromValues([1f, 2f, 3f, 4f], 4);
                Tensor loss = F.CrossEntropy(F.Reshape(F.Add(F.Scale(x, 2f), w), 2, 2), [0, 1]);
                loss.Backward();
            }
            Assert.Equal(pool.Rented, pool.Returned);
        }
        Assert.True(pool.Rented > 0);
        Assert.NotNull(w.Grad);                              // a leaf made outside the scope keeps its gradient
        Assert.Equal(4, w.Grad!.Size);
    }

    [Fact]
    public void A_tensor_whose_scope_ended_cannot_be_read()
    {
        var pool = new TensorPool();
        Tensor inside, view;
        using (pool.BeginStep())
        {
            inside = Tensor.Full(3f, 2, 2);
            view = inside.Reshape(4);
        }
        // The buffer is back in the pool: the next step may hand it to another tensor.
        using (pool.BeginStep())
        {
            Tensor reuse = Tensor.Full(9f, 2, 2);
            Assert.Equal(9f, reuse.Span[0]);
            var e = Assert.Throws<InvalidOperationException>(() => inside.Span[0]);
            Assert.Contains("scope", e.Message);
            Assert.Throws<InvalidOperationException>(() => view.ToArray());
        }
    }

    [Fact]
    public void A_kept_tensor_survives_its_scope_and_is_not_reused()
    {
        var pool = new TensorPool();
        Tensor kept;
        using (TensorScope scope = pool.BeginStep())
        {
            kept = scope.Keep(Tensor.Full(5f, 3));
        }
        using (pool.BeginStep())
        {
            Tensor other = Tensor.Full(1f, 3);
            Assert.Equal([1f, 1f, 1f], other.ToArray());
        }
        Assert.Equal([5f, 5f, 5f], kept.ToArray());
        Assert.Equal(pool.Rented, pool.Returned + 1);
    }
}
