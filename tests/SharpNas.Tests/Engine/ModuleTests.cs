using System.Text.Json;
using SharpNas.Engine;
using SharpNas.Engine.Autograd;
using SharpNas.Engine.Models;
using SharpNas.Engine.Modules;

namespace SharpNas.Tests.Engine;

/// <summary>Module trees: PyTorch's state-dict names, parameter counts, train/eval, initialisation.</summary>
public sealed class ModuleTests
{
    /// <summary>PyTorch's <c>state_dict()</c> keys of the CIFAR ResNet-(6n+2) definition, without the
    /// <c>num_batches_tracked</c> counters (SharpNas keeps none; loading ignores them).</summary>
    private static List<string> TorchStateDictNames(int n, bool buffers)
    {
        var names = new List<string>();
        void Bn(string prefix)
        {
            names.Add(prefix + ".weight");
            names.Add(prefix + ".bias");
            if (buffers) { names.Add(prefix + ".running_mean"); names.Add(prefix + ".running_var"); }
        }
        names.Add("conv1.weight");
        Bn("bn1");
        for (int s = 1; s <= 3; s++)
            for (int b = 0; b < n; b++)
            {
                string block = $"layer{s}.{b}";
                names.Add(block + ".conv1.weight");
                Bn(block + ".bn1");
                names.Add(block + ".conv2.weight");
                Bn(block + ".bn2");
            }
        names.Add("fc.weight");
        names.Add("fc.bias");
        return names;
    }

    [Fact]
    public void ResNet20_state_dict_names_are_PyTorchs()
    {
        ResNet model = ResNet.Cifar(20);
        var names = model.StateDict().Select(e => e.Name).ToList();
        Assert.Equal(TorchStateDictNames(3, buffers: true), names);
        Assert.Equal(59, model.NamedParameters().Count());
        Assert.Equal(38, model.NamedBuffers().Count());
        Assert.Contains("layer3.2.bn2.weight", names);
        Assert.Contains("bn1.running_var", names);
    }

    [SkippableFact]
    public void ResNet20_parameter_and_buffer_order_equals_the_fixtures()
    {
        string root = SharedFolder.Require("SHARPNAS_FIXTURES", "fixtures/torch-reference");
        string file = Path.Combine(root, "resnet20_cifar_train_step", "case.json");
        Skip.IfNot(File.Exists(file), "resnet20_cifar_train_step is absent");
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var order = doc.RootElement.GetProperty("params").GetProperty("parameter_order").EnumerateArray().Select(e => e.GetString()).ToList();
        var buffers = doc.RootElement.GetProperty("tensors").EnumerateArray()
            .Where(t => t.GetProperty("role").GetString() == "buffer").Select(t => t.GetProperty("name").GetString()).ToList();
        ResNet model = ResNet.Cifar(20);
        Assert.Equal(order, model.NamedParameters().Select(p => p.Name));
        Assert.Equal(buffers, model.NamedBuffers().Select(b => b.Name));
    }

    [Theory]
    [InlineData(20, 269_722)]
    [InlineData(32, 464_154)]
    [InlineData(56, 853_018)]
    public void Cifar_resnet_parameter_counts_match_the_paper_definition(int depth, long count) =>
        Assert.Equal(count, ResNet.Cifar(depth).ParameterCount());

    [Fact]
    public void Parameter_shapes_follow_PyTorchs_layouts()
    {
        var shapes = ResNet.Cifar(20).StateDict().ToDictionary(e => e.Name, e => e.Tensor.ShapeArray);
        Assert.Equal([16, 3, 3, 3], shapes["conv1.weight"]);
        Assert.Equal([32, 16, 3, 3], shapes["layer2.0.conv1.weight"]);
        Assert.Equal([64], shapes["layer3.2.bn2.running_var"]);
        Assert.Equal([10, 64], shapes["fc.weight"]);
    }

    [Fact]
    public void Projection_shortcuts_are_named_shortcut_0_and_shortcut_1_only_where_the_shape_changes()
    {
        ResNet model = ResNet.Cifar(20, shortcut: ShortcutKind.Projection);
        var names = model.StateDict().Select(e => e.Name).ToList();
        foreach (string s in new[] { "layer2.0", "layer3.0" })
        {
            Assert.Contains($"{s}.shortcut.0.weight", names);
            Assert.Contains($"{s}.shortcut.1.weight", names);
            Assert.Contains($"{s}.shortcut.1.running_var", names);
        }
        Assert.DoesNotContain(names, n => n.StartsWith("layer1.", StringComparison.Ordinal) && n.Contains("shortcut"));
        Assert.DoesNotContain(names, n => n.StartsWith("layer2.1.", StringComparison.Ordinal) && n.Contains("shortcut"));
        var shapes = model.StateDict().ToDictionary(e => e.Name, e => e.Tensor.ShapeArray);
        Assert.Equal([32, 16, 1, 1], shapes["layer2.0.shortcut.0.weight"]);
        // The zero-pad (option A) network has none of them.
        Assert.DoesNotContain(ResNet.Cifar(20).StateDict(), e => e.Name.Contains("shortcut"));
    }

    [Fact]
    public void Train_and_eval_reach_every_module_of_the_tree()
    {
        ResNet model = ResNet.Cifar(20);
        Assert.All(model.NamedModules(), m => Assert.True(m.Module.Training));
        model.Eval();
        Assert.All(model.NamedModules(), m => Assert.False(m.Module.Training, m.Path));
        model.Train();
        Assert.All(model.NamedModules(), m => Assert.True(m.Module.Training, m.Path));
        Assert.True(model.NamedModules().Count() > 40);
    }

    [Fact]
    public void Batch_norm_updates_running_statistics_in_training_and_uses_them_in_evaluation()
    {
        var model = new ResNet([1]);
        model.Initialize(new SeededRandom(3));
        Tensor x = GradientCheck.Random([2, 3, 8, 8], new SeededRandom(4));
        Tensor runningMean = model.NamedBuffers().First(b => b.Name == "bn1.running_mean").Tensor;
        float[] before = runningMean.ToArray();
        using (GradMode.NoGrad())
        {
            model.Eval();
            float[] evalA = model.Forward(x).ToArray();
            Assert.Equal(before, runningMean.ToArray());
            model.Train();
            model.Forward(x);
            Assert.NotEqual(before, runningMean.ToArray());
            model.Eval();
            Assert.NotEqual(evalA, model.Forward(x).ToArray());   // evaluation now sees the updated statistics
        }
    }

    [Fact]
    public void Initialize_with_one_seed_is_reproducible_and_another_seed_differs()
    {
        static float[] Weights(ulong seed)
        {
            ResNet m = ResNet.Cifar(20);
            m.Initialize(new SeededRandom(seed));
            return m.Parameters().SelectMany(p => p.ToArray()).ToArray();
        }
        float[] a = Weights(11), b = Weights(11), c = Weights(12);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.True(a.Zip(c).Count(p => p.First != p.Second) > a.Length / 2, "another seed should change most weights");
    }

    [Fact]
    public void Initialization_of_a_module_does_not_depend_on_the_modules_around_it()
    {
        // Streams are derived from each module's path: a wider classifier leaves the convolutions unchanged.
        ResNet ten = ResNet.Cifar(20, numClasses: 10), hundred = ResNet.Cifar(20, numClasses: 100);
        ten.Initialize(new SeededRandom(5));
        hundred.Initialize(new SeededRandom(5));
        Tensor Get(ResNet m, string name) => m.NamedParameters().First(p => p.Name == name).Tensor;
        Assert.Equal(Get(ten, "layer2.1.conv2.weight").ToArray(), Get(hundred, "layer2.1.conv2.weight").ToArray());
    }

    [Fact]
    public void Conv_weights_start_kaiming_normal_with_fan_out_and_batch_norm_at_identity()
    {
        ResNet model = ResNet.Cifar(20);
        model.Initialize(new SeededRandom(21));
        var p = model.NamedParameters().ToDictionary(e => e.Name, e => e.Tensor);
        foreach ((string name, int fanOut) in new[] { ("layer3.1.conv1.weight", 64 * 9), ("layer1.0.conv2.weight", 16 * 9), ("conv1.weight", 16 * 9) })
        {
            float[] w = p[name].ToArray();
            double mean = w.Average(v => (double)v), std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
            double expected = Math.Sqrt(2.0 / fanOut);
            // Relative standard error of a sample std is 1/√(2n): 0.4 % for 36,864 values, 16 % for conv1's 432.
            double slack = 4 / Math.Sqrt(2.0 * w.Length);
            Assert.InRange(std / expected, 1 - slack, 1 + slack);
            Assert.InRange(mean, -4 * expected / Math.Sqrt(w.Length), 4 * expected / Math.Sqrt(w.Length));
        }
        Assert.All(p["layer2.0.bn1.weight"].ToArray(), v => Assert.Equal(1f, v));
        Assert.All(p["layer2.0.bn1.bias"].ToArray(), v => Assert.Equal(0f, v));
        double bound = 1 / Math.Sqrt(64);
        Assert.All(p["fc.weight"].ToArray(), v => Assert.InRange(v, -bound, bound));
        Assert.All(p["fc.bias"].ToArray(), v => Assert.InRange(v, -bound, bound));
    }

    [Fact]
    public void ZeroGrad_clears_the_gradient_of_every_parameter()
    {
        var model = new ResNet([1]);
        model.Initialize(new SeededRandom(1));
        Tensor loss = SharpNas.Engine.Functional.F.CrossEntropy(model.Forward(GradientCheck.Random([2, 3, 8, 8], new SeededRandom(2))), [1, 2]);
        loss.Backward();
        Assert.All(model.Parameters(), p => Assert.Contains(p.Grad!.ToArray(), v => v != 0f));
        model.ZeroGrad();
        Assert.All(model.Parameters(), p => Assert.All(p.Grad!.ToArray(), v => Assert.Equal(0f, v)));
    }

    private sealed class Registrar : Module
    {
        public void Param(string name) => RegisterParameter(name, Tensor.Zeros(1));
        public void Buffer(string name) => RegisterBuffer(name, Tensor.Zeros(1));
    }

    [Fact]
    public void Registering_an_empty_dotted_or_duplicate_name_is_refused()
    {
        var m = new Registrar();
        m.Param("w");
        Assert.Contains("\"a.b\"", Assert.Throws<ArgumentException>(() => m.Param("a.b")).Message);
        Assert.Contains("non-empty", Assert.Throws<ArgumentException>(() => m.Param("")).Message);
        Assert.Contains("already registered", Assert.Throws<ArgumentException>(() => m.Buffer("w")).Message);
        Assert.True(m.Parameters().Single().RequiresGrad);
    }
}
