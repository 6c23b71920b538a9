using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.Modules;

namespace SharpNas.Tests.Engine;

/// <summary>Bad input to the search ops (activations, embedding, slicing, LSTM) is refused with a message that names
/// the op and the offending shape, index or argument (the rule of <see cref="BadInputTests"/>).</summary>
public sealed class SearchOpsBadInputTests
{
    private static Tensor T(params int[] shape) => Tensor.Zeros(shape);

    private static void Rejects(Action act, params string[] mentions) => BadInputTests.Rejects(act, mentions);

    [Fact]
    public void Sub_of_different_shapes_names_both_shapes() => Rejects(() => F.Sub(T(2, 3), T(3, 2)), "Sub", "[2, 3]", "[3, 2]");

    [Fact]
    public void Mul_of_different_shapes_names_both_shapes() => Rejects(() => F.Mul(T(4), T(2, 2)), "Mul", "[4]", "[2, 2]");

    [Fact]
    public void Embedding_index_beyond_the_table_names_the_index_and_V() =>
        Rejects(() => F.Embedding(T(10, 6), [3, 10, 1]), "Embedding", "index 10", "position 1", "V = 10");

    [Fact]
    public void Embedding_negative_index_names_the_index() =>
        Rejects(() => F.Embedding(T(10, 6), [-1]), "Embedding", "index -1", "V = 10");

    [Fact]
    public void Embedding_index_shape_that_does_not_fit_the_indices_names_both() =>
        Rejects(() => F.Embedding(T(10, 6), [1, 2, 3], [2, 2]), "Embedding", "[2, 2]", "got 3");

    [Fact]
    public void Embedding_table_that_is_not_two_dimensional_names_its_shape() =>
        Rejects(() => F.Embedding(T(10), [1]), "Embedding", "[V, D]", "[10]");

    [Fact]
    public void Embedding_module_of_no_rows_is_refused() => Rejects(() => new Embedding(0, 4), "Embedding", "0");

    [Fact]
    public void Narrow_beyond_the_dimension_names_the_range_and_the_shape() =>
        Rejects(() => F.Narrow(T(2, 5), 1, 3, 4), "Narrow", "[3, 7)", "size 5", "[2, 5]");

    [Fact]
    public void Narrow_of_a_missing_dimension_names_it() => Rejects(() => F.Narrow(T(2, 5), 2, 0, 1), "Narrow", "dimension 2", "[2, 5]");

    [Fact]
    public void Stack_of_different_shapes_names_both() => Rejects(() => F.Stack(T(2, 3), T(2, 4)), "Stack", "[2, 4]", "[2, 3]");

    [Fact]
    public void Stack_of_nothing_is_refused() => Rejects(() => F.Stack(), "Stack", "no inputs");

    [Fact]
    public void Softmax_of_a_scalar_shape_is_refused() => Rejects(() => F.Softmax(Tensor.Zeros()), "Softmax", "[]");

    [Fact]
    public void Softmax_over_an_empty_last_dimension_names_the_shape() => Rejects(() => F.Softmax(T(3, 0)), "Softmax", "[3, 0]");

    [Fact]
    public void CRelu_without_a_channel_dimension_names_the_shape() => Rejects(() => F.CRelu(T(5)), "CRelu", "[5]");

    [Fact]
    public void LstmCell_input_of_the_wrong_width_names_input_and_weight() =>
        Rejects(() => F.LstmCell(T(2, 5), T(2, 4), T(2, 4), T(16, 6), T(16, 4), T(16), T(16)), "LstmCell", "[2, 5]", "[16, 6]");

    [Fact]
    public void LstmCell_state_of_the_wrong_shape_names_h_and_c() =>
        Rejects(() => F.LstmCellFused(T(2, 6), T(3, 4), T(2, 4), T(16, 6), T(16, 4), T(16), T(16)), "LstmCell", "[3, 4]", "[2, 4]");

    [Fact]
    public void LstmCell_weight_hh_that_does_not_match_weight_ih_names_both() =>
        Rejects(() => F.LstmCell(T(2, 6), T(2, 4), T(2, 4), T(16, 6), T(16, 5), T(16), T(16)), "weight_hh", "[16, 5]", "[16, 6]");

    [Fact]
    public void LstmCell_weight_ih_with_rows_not_a_multiple_of_four_names_it() =>
        Rejects(() => F.LstmCell(T(2, 6), T(2, 4), T(2, 4), T(15, 6), T(15, 4), null, null), "weight_ih", "[4H, in]", "[15, 6]");

    [Fact]
    public void LstmCell_with_a_single_bias_is_refused() =>
        Rejects(() => F.LstmCell(T(2, 6), T(2, 4), T(2, 4), T(16, 6), T(16, 4), T(16), null), "LstmCell", "both biases");

    [Fact]
    public void LstmCell_module_fed_the_wrong_width_names_the_shapes()
    {
        var cell = new LstmCell(6, 4);
        Rejects(() => cell.Forward(T(2, 7)), "LstmCell", "[2, 7]", "[16, 6]");
    }

    [Fact]
    public void Lstm_with_a_batch_first_input_names_the_expected_layout()
    {
        var lstm = new Lstm(12, 16);
        Rejects(() => lstm.Forward(T(3, 12)), "Lstm", "[3, 12]", "time-major");
    }

    [Fact]
    public void Lstm_with_a_two_dimensional_initial_state_names_h0_c0_and_the_expected_shape()
    {
        var lstm = new Lstm(12, 16);
        Rejects(() => lstm.Forward(T(5, 3, 12), new LstmState(T(3, 16), T(3, 16))), "h0", "[3, 16]", "[1, 3, 16]");
    }

    [Fact]
    public void Lstm_module_of_zero_hidden_size_is_refused() => Rejects(() => new Lstm(4, 0), "Lstm", "hidden 0");
}
