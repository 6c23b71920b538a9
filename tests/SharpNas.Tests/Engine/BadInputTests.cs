using System.Text;
using SharpNas.Engine;
using SharpNas.Engine.Functional;
using SharpNas.Engine.IO;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;

namespace SharpNas.Tests.Engine;

/// <summary>
/// Bad input raises an exception of the argument / invalid-data / invalid-operation family (never an index or null
/// reference error from deep inside a kernel) whose message names the op and the offending shape or argument.
/// </summary>
public sealed class BadInputTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "sharpnas-badinput-" + Guid.NewGuid().ToString("N"));

    public BadInputTests() => Directory.CreateDirectory(_dir);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Runs <paramref name="act"/>, asserts a clear exception and that its message mentions every fragment.</summary>
    internal static Exception Rejects(Action act, params string[] mentions)
    {
        Exception? e = Record.Exception(act);
        Assert.NotNull(e);
        Assert.True(e is ArgumentException or InvalidDataException or InvalidOperationException or FileNotFoundException,
            $"expected an argument/data/operation error, got {e.GetType().Name}: {e.Message}");
        foreach (string m in mentions)
            Assert.True(e.Message.Contains(m, StringComparison.Ordinal), $"message does not mention \"{m}\": {e.Message}");
        return e;
    }

    private static Tensor T(params int[] shape) => Tensor.Zeros(shape);

    // ---- shapes that do not fit together ------------------------------------------------------------------

    [Fact]
    public void Add_of_different_shapes_names_both_shapes() =>
        Rejects(() => F.Add(T(2, 3), T(3, 2)), "Add", "[2, 3]", "[3, 2]");

    [Fact]
    public void Linear_with_mismatched_features_names_input_and_weight() =>
        Rejects(() => F.Linear(T(4, 5), T(3, 6), null), "Linear", "[4, 5]", "[3, 6]");

    [Fact]
    public void Linear_with_a_wrong_bias_names_the_bias() =>
        Rejects(() => F.Linear(T(4, 5), T(3, 5), T(4)), "Linear", "bias", "[4]");

    [Fact]
    public void Conv2d_with_a_channel_mismatch_names_input_and_weight() =>
        Rejects(() => F.Conv2d(T(1, 3, 5, 5), T(4, 2, 3, 3), null, Conv2dOptions.Symmetric(1, 1, 1)), "Conv2d", "[1, 3, 5, 5]", "[4, 2, 3, 3]");

    [Fact]
    public void A_conv_module_fed_the_wrong_channel_count_names_the_shapes()
    {
        var conv = new SharpNas.Engine.Modules.Conv2d(3, 8, 3, padding: 1);
        Rejects(() => conv.Forward(T(2, 4, 6, 6)), "Conv2d", "[2, 4, 6, 6]", "[8, 3, 3, 3]");
    }

    [Fact]
    public void Conv2d_with_a_wrong_bias_names_the_bias() =>
        Rejects(() => F.Conv2d(T(1, 3, 5, 5), T(4, 3, 3, 3), T(3), Conv2dOptions.Symmetric()), "Conv2d", "bias", "[3]");

    [Fact]
    public void ConcatChannels_of_different_image_sizes_names_the_odd_one() =>
        Rejects(() => F.ConcatChannels(T(1, 2, 4, 4), T(1, 2, 5, 4)), "ConcatChannels", "[1, 2, 5, 4]", "[1, 2, 4, 4]");

    [Fact]
    public void ConcatChannels_of_different_batch_sizes_names_the_odd_one() =>
        Rejects(() => F.ConcatChannels(T(2, 2, 4, 4), T(3, 2, 4, 4)), "ConcatChannels", "[3, 2, 4, 4]");

    [Fact]
    public void ConcatChannels_after_an_input_without_channels_copies_the_others()
    {
        // Was all zeros: the elements per channel were derived from the first input's size, 0 here.
        Tensor y = F.ConcatChannels(T(1, 0, 2, 2), Tensor.Full(1f, 1, 2, 2, 2));
        Assert.Equal([1, 2, 2, 2], y.ShapeArray);
        Assert.All(y.ToArray(), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void LogSoftmax_over_no_classes_names_the_op() => Rejects(() => F.LogSoftmax(T(2, 0)), "LogSoftmax", "[2, 0]");

    [Fact]
    public void ConcatChannels_of_nothing_is_refused() => Rejects(() => F.ConcatChannels(), "ConcatChannels");

    [Fact]
    public void BatchNorm_with_a_weight_of_the_wrong_size_names_it() =>
        Rejects(() => F.BatchNorm2d(T(2, 3, 4, 4), T(4), T(3), null, null, true), "BatchNorm2d", "weight", "[4]", "[2, 3, 4, 4]");

    [Fact]
    public void BatchNorm_training_on_one_value_per_channel_is_refused() =>
        Rejects(() => F.BatchNorm2d(T(1, 3, 1, 1), null, null, null, null, true), "BatchNorm2d", "[1, 3, 1, 1]");

    [Fact]
    public void Ops_given_the_wrong_rank_name_the_shape()
    {
        Rejects(() => F.BatchNorm2d(T(2, 3, 4), null, null, null, null, true), "BatchNorm2d", "[2, 3, 4]");
        Rejects(() => F.GlobalAvgPool(T(2, 3)), "GlobalAvgPool", "[2, 3]");
        Rejects(() => F.LogSoftmax(T(2, 3, 4)), "LogSoftmax", "[2, 3, 4]");
        Rejects(() => F.MaxPool2d(T(3, 4, 4), Pool2dOptions.Square(2)), "MaxPool2d", "[3, 4, 4]");
        Rejects(() => F.Conv2d(T(3, 4, 4), T(1, 3, 1, 1), null, Conv2dOptions.Symmetric()), "Conv2d", "[3, 4, 4]");
        Rejects(() => F.ShortcutA(T(2, 4), 8), "ShortcutA", "[2, 4]");
        Rejects(() => F.CrossEntropy(T(2, 3, 1), [0, 1]), "CrossEntropy", "[2, 3, 1]");
    }

    [Fact]
    public void Flatten_of_a_scalar_names_the_op()
    {
        Tensor scalar = Tensor.FromValues([1f]);
        Rejects(() => F.Flatten(scalar), "Flatten");
    }

    [Fact]
    public void Asking_for_a_dimension_that_does_not_exist_names_the_shape() =>
        Rejects(() => T(2, 3).Dim(2), "[2, 3]", "2");

    [Fact]
    public void Reshape_to_a_different_element_count_names_both_shapes()
    {
        Rejects(() => F.Reshape(T(2, 3), 4, 2), "Reshape", "[2, 3]", "[4, 2]");
        Rejects(() => F.Reshape(T(2, 3), 4, -1), "Reshape", "[2, 3]", "[4, -1]");
        Rejects(() => F.Reshape(T(2, 3), -1, -1), "Reshape", "[-1, -1]");
    }

    [Fact]
    public void ShortcutA_to_an_odd_channel_difference_names_the_channels() =>
        Rejects(() => F.ShortcutA(T(1, 4, 4, 4), 7), "ShortcutA", "7", "4");

    [Fact]
    public void FromValues_with_the_wrong_count_names_shape_and_count() =>
        Rejects(() => Tensor.FromValues([1f, 2f, 3f], 2, 2), "FromValues", "[2, 2]", "3");

    // ---- windows and sizes ---------------------------------------------------------------------------------

    [Fact]
    public void A_conv_kernel_larger_than_the_padded_input_names_both_sizes() =>
        Rejects(() => F.Conv2d(T(1, 1, 3, 3), T(1, 1, 5, 5), null, Conv2dOptions.Symmetric(1, 0, 0)), "Conv2d", "5x5", "3x3");

    [Fact]
    public void A_dilated_conv_kernel_larger_than_the_padded_input_is_refused() =>
        Rejects(() => F.Conv2d(T(1, 1, 4, 4), T(1, 1, 3, 3), null, Conv2dOptions.Symmetric(1, 0, 0, dilation: 2)), "Conv2d", "dilation", "4x4");

    [Fact]
    public void A_pool_window_larger_than_the_padded_input_names_both_sizes()
    {
        Rejects(() => F.MaxPool2d(T(1, 1, 3, 3), Pool2dOptions.Square(5, 1)), "MaxPool2d", "5x5", "3x3");
        Rejects(() => F.AvgPool2d(T(1, 1, 3, 3), Pool2dOptions.Square(5, 1)), "AvgPool2d", "5x5", "3x3");
    }

    [Fact]
    public void A_stride_of_zero_is_refused()
    {
        Rejects(() => F.Conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), null, Conv2dOptions.Symmetric(0)), "Conv2d", "stride", "0");
        Rejects(() => F.MaxPool2d(T(1, 1, 5, 5), Pool2dOptions.Square(3, 0)), "MaxPool2d", "stride", "0");
        Rejects(() => F.AvgPool2d(T(1, 1, 5, 5), new Pool2dOptions(3, 3, 1, -1)), "AvgPool2d", "stride", "-1");
        Rejects(() => F.ShortcutA(T(1, 4, 4, 4), 8, 0), "ShortcutA", "stride", "0");
        Rejects(() => new SharpNas.Engine.Modules.Conv2d(3, 4, 3, stride: 0).Forward(T(1, 3, 5, 5)), "Conv2d", "stride");
    }

    [Fact]
    public void A_kernel_of_size_zero_is_refused()
    {
        Rejects(() => F.MaxPool2d(T(1, 1, 5, 5), Pool2dOptions.Square(0, 1)), "MaxPool2d", "kernel", "0");
        Rejects(() => F.Conv2d(T(1, 1, 5, 5), T(1, 1, 0, 3), null, Conv2dOptions.Symmetric()), "Conv2d", "[1, 1, 0, 3]");
        Rejects(() => new SharpNas.Engine.Modules.Conv2d(3, 4, 0), "Conv2d", "kernel", "0x0");
    }

    [Fact]
    public void Negative_padding_is_refused()
    {
        Rejects(() => F.Conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), null, Conv2dOptions.Symmetric(1, -1, 0)), "Conv2d", "padding", "-1");
        Rejects(() => F.AvgPool2d(T(1, 1, 5, 5), Pool2dOptions.Square(3, 1, -1)), "AvgPool2d", "padding");
    }

    [Fact]
    public void Pool_padding_beyond_half_the_kernel_is_refused() =>
        Rejects(() => F.MaxPool2d(T(1, 1, 5, 5), Pool2dOptions.Square(3, 1, 2)), "MaxPool2d", "padding", "half");

    [Fact]
    public void Dilation_of_zero_is_refused() =>
        Rejects(() => F.Conv2d(T(1, 1, 5, 5), T(1, 1, 3, 3), null, Conv2dOptions.Symmetric(1, 1, 1, dilation: 0)), "Conv2d", "dilation", "0");

    [Fact]
    public void Modules_with_zero_channels_or_features_are_refused()
    {
        Rejects(() => new SharpNas.Engine.Modules.Conv2d(0, 4, 3), "Conv2d", "in 0");
        Rejects(() => new SharpNas.Engine.Modules.Conv2d(3, 0, 3), "Conv2d", "out 0");
        Rejects(() => new SharpNas.Engine.Modules.BatchNorm2d(0), "BatchNorm2d", "0");
        Rejects(() => new SharpNas.Engine.Modules.Linear(0, 3), "Linear", "in 0");
        Rejects(() => new SharpNas.Engine.Modules.Linear(3, 0), "Linear", "out 0");
        Rejects(() => new ResNet([2, 0, 2]), "ResNet", "[2, 0, 2]");
        Rejects(() => ResNet.Cifar(21), "ResNet", "21");
    }

    [Fact]
    public void Groups_that_do_not_divide_the_channels_are_refused()
    {
        Rejects(() => F.Conv2d(T(1, 3, 5, 5), T(4, 1, 3, 3), null, Conv2dOptions.Symmetric(1, 1, 1, groups: 2)), "Conv2d", "groups", "2", "3");
        Rejects(() => F.Conv2d(T(1, 4, 5, 5), T(3, 2, 3, 3), null, Conv2dOptions.Symmetric(1, 1, 1, groups: 2)), "Conv2d", "groups", "3");
        Rejects(() => F.Conv2d(T(1, 4, 5, 5), T(4, 4, 3, 3), null, Conv2dOptions.Symmetric(1, 1, 1, groups: 0)), "Conv2d", "groups", "0");
        Rejects(() => new SharpNas.Engine.Modules.Conv2d(3, 4, 3, groups: 2), "Conv2d", "groups 2", "in 3");
    }

    // ---- labels, probabilities, optimizers ----------------------------------------------------------------

    [Fact]
    public void CrossEntropy_labels_outside_the_classes_name_label_sample_and_range()
    {
        Rejects(() => F.CrossEntropy(T(3, 10), [1, 10, 2]), "CrossEntropy", "label 10", "sample 1", "[0, 10)");
        Rejects(() => F.CrossEntropy(T(3, 10), [-1, 0, 2]), "CrossEntropy", "label -1", "sample 0");
        Rejects(() => F.CrossEntropy(T(3, 10), [1, 2]), "CrossEntropy", "2 labels", "[3, 10]");
        Rejects(() => F.CrossEntropy(T(3, 10), [1, 2, 3], labelSmoothing: 1.5f), "CrossEntropy", "1.5");
    }

    [Fact]
    public void Drop_probabilities_outside_zero_to_one_are_refused()
    {
        Rejects(() => F.Dropout(T(2, 3), 1f, true, new SeededRandom(1)), "Dropout", "1");
        Rejects(() => F.DropPath(T(2, 3), -0.1f, true, new SeededRandom(1)), "DropPath", "-0.1");
    }

    [Fact]
    public void Optimizers_with_impossible_settings_are_refused()
    {
        Tensor p = T(3);
        Rejects(() => new SharpNas.Engine.Optim.Sgd([p], -0.1), "Sgd", "-0.1");
        Rejects(() => new SharpNas.Engine.Optim.Sgd([p], 0.1, nesterov: true), "Sgd", "Nesterov");
        Rejects(() => new SharpNas.Engine.Optim.Adam([p], beta1: 1.0), "Adam", "betas");
        Rejects(() => new SharpNas.Engine.Optim.Sgd([], 0.1), "Sgd", "no parameters");
    }

    // ---- autograd ---------------------------------------------------------------------------------------

    [Fact]
    public void Backward_of_a_non_scalar_without_a_gradient_names_the_tensor()
    {
        Tensor x = T(2, 3);
        x.RequiresGrad = true;
        Rejects(() => F.Scale(x, 2f).Backward(), "Backward", "[2, 3]", "scalar");
    }

    [Fact]
    public void Backward_with_a_gradient_of_the_wrong_shape_names_both_shapes()
    {
        Tensor x = T(2, 3);
        x.RequiresGrad = true;
        Rejects(() => F.Scale(x, 2f).Backward(T(3, 2)), "Backward", "[3, 2]", "[2, 3]");
    }

    // ---- state dicts and files ----------------------------------------------------------------------------

    [Fact]
    public void LoadStateDict_lists_every_missing_unexpected_and_misshaped_name_and_loads_nothing()
    {
        var model = new Sequential(new SharpNas.Engine.Modules.Linear(3, 2), new SharpNas.Engine.Modules.BatchNorm2d(2));
        model.Initialize(new SeededRandom(1));
        float[] before = model.StateDict()[0].Tensor.ToArray();
        var state = new Dictionary<string, Tensor>
        {
            ["0.weight"] = T(2, 4),                     // wrong shape
            // 0.bias missing
            ["1.weight"] = T(2), ["1.bias"] = T(2), ["1.running_mean"] = T(2), ["1.running_var"] = T(2),
            ["1.num_batches_tracked"] = T(1),           // PyTorch's counter: accepted and ignored
            ["head.weight"] = T(5, 2),                  // unexpected
        };
        Exception e = Rejects(() => model.LoadStateDict(state), "LoadStateDict", "3 mismatch",
            "0.weight", "[2, 4]", "[2, 3]", "missing 0.bias", "unexpected head.weight");
        Assert.IsType<InvalidDataException>(e);
        Assert.DoesNotContain("num_batches_tracked", e.Message);
        Assert.Equal(before, model.StateDict()[0].Tensor.ToArray());
    }

    [Fact]
    public void LoadStateDict_not_strict_ignores_extra_names_but_still_reports_missing_ones()
    {
        var model = new SharpNas.Engine.Modules.Linear(3, 2);
        var state = new Dictionary<string, Tensor> { ["weight"] = Tensor.Full(1f, 2, 3), ["extra"] = T(1) };
        Rejects(() => model.LoadStateDict(state, strict: false), "missing bias");
        state["bias"] = Tensor.Full(2f, 2);
        model.LoadStateDict(state, strict: false);
        Assert.Equal([2f, 2f], model.Bias!.ToArray());
    }

    private string SavedFile()
    {
        string path = Path.Combine(_dir, "w.safetensors");
        Safetensors.Save(path, [("a", Tensor.Full(1f, 2, 3)), ("b", Tensor.Full(2f, 4))]);
        return path;
    }

    /// <summary>A safetensors file with the given header text (padded to 8 bytes) and data bytes.</summary>
    private static byte[] FileWithHeader(string json, int dataBytes)
    {
        byte[] header = Encoding.UTF8.GetBytes(json);
        int padded = (header.Length + 7) / 8 * 8;
        byte[] bytes = new byte[8 + padded + dataBytes];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)padded);
        header.CopyTo(bytes, 8);
        bytes.AsSpan(8 + header.Length, padded - header.Length).Fill((byte)' ');
        return bytes;
    }

    [Fact]
    public void A_truncated_safetensors_file_names_the_file_and_the_tensor()
    {
        string path = SavedFile();
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..^5]);
        Exception e = Rejects(() => Safetensors.Load(path), path, "\"b\"", "bytes");
        Assert.IsType<InvalidDataException>(e);
    }

    [Fact]
    public void A_safetensors_file_cut_inside_its_header_or_length_is_refused()
    {
        byte[] bytes = File.ReadAllBytes(SavedFile());
        Rejects(() => Safetensors.Parse(bytes[..40], "cut.safetensors"), "cut.safetensors", "header length");
        Rejects(() => Safetensors.Parse(bytes[..5], "tiny.safetensors"), "tiny.safetensors", "5 bytes");
        Rejects(() => Safetensors.Parse([], "empty.safetensors"), "empty.safetensors");
    }

    [Fact]
    public void A_garbled_safetensors_header_is_refused_naming_the_file()
    {
        byte[] bytes = File.ReadAllBytes(SavedFile());
        for (int i = 8; i < 20; i++) bytes[i] = (byte)'#';
        Exception e = Rejects(() => Safetensors.Parse(bytes, "garbled.safetensors"), "garbled.safetensors", "JSON");
        Assert.IsType<InvalidDataException>(e);
        byte[] huge = File.ReadAllBytes(SavedFile());
        BitConverter.TryWriteBytes(huge.AsSpan(0, 8), ulong.MaxValue);
        Rejects(() => Safetensors.Parse(huge, "huge.safetensors"), "huge.safetensors", "header length");
    }

    [Theory]
    [InlineData("[1, 2, 3]", 0, "object")]
    [InlineData("{\"a\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [\"two\"], \"data_offsets\": [0, 8]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [-2], \"data_offsets\": [0, 8]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8, "\"a\"")]
    [InlineData("{\"a\": {\"dtype\": \"Q4\", \"shape\": [2], \"data_offsets\": [0, 8]}}", 8, "Q4")]
    [InlineData("{\"a\": 5}", 8, "\"a\"")]
    [InlineData("{\"__metadata__\": {\"epoch\": 3}}", 0, "__metadata__")]
    public void A_malformed_safetensors_header_entry_is_an_invalid_data_error_naming_the_file(string json, int dataBytes, string mention)
    {
        Exception e = Rejects(() => Safetensors.Parse(FileWithHeader(json, dataBytes), "bad.safetensors"), "bad.safetensors", mention);
        Assert.IsType<InvalidDataException>(e);
    }

    [Fact]
    public void Loading_a_missing_safetensors_file_names_the_path()
    {
        string path = Path.Combine(_dir, "absent.safetensors");
        Exception e = Rejects(() => Safetensors.Load(path), path);
        Assert.IsType<FileNotFoundException>(e);
    }

    [Fact]
    public void Saving_two_tensors_under_one_name_is_refused_and_leaves_no_file()
    {
        string path = Path.Combine(_dir, "dup.safetensors");
        Rejects(() => Safetensors.Save(path, [("x", T(1)), ("x", T(2))]), "duplicate", "\"x\"");
        Assert.Empty(Directory.GetFiles(_dir));
    }
}
