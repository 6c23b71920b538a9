using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class DataSpecTests
{
    [Theory]
    [InlineData("cifar10:/data/cifar", DatasetKind.Cifar10, "/data/cifar")]
    [InlineData("CIFAR100:rel/path", DatasetKind.Cifar100, "rel/path")]
    [InlineData("fashion-mnist:C:\\data\\fm", DatasetKind.FashionMnist, "C:\\data\\fm")]
    [InlineData("mnist: spaced ", DatasetKind.Mnist, "spaced")]
    [InlineData("npy:x", DatasetKind.Npy, "x")]
    [InlineData("builtin", DatasetKind.Builtin, null)]
    public void Parse_SplitsNameAndPathAtTheFirstColon(string text, DatasetKind kind, string? path)
    {
        DataSpec spec = DataSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(path, spec.Path);
    }

    [Fact]
    public void Parse_UnknownName_ListsTheValidNames()
    {
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Parse("imagenet:/data"));
        Assert.Contains("'imagenet'", e.Message);
        Assert.Contains("cifar10, cifar100, fashion-mnist, mnist, npy, builtin", e.Message);
    }

    [Fact]
    public void Parse_MissingPath_IsAnError()
    {
        var e = Assert.Throws<DataFormatException>(() => DataSpec.Parse("cifar10"));
        Assert.Contains("cifar10:PATH", e.Message);
    }
}
