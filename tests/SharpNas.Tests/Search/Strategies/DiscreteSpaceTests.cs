using SharpNas.Engine;
using SharpNas.Search.Spaces;

namespace SharpNas.Tests.Search.Strategies;

public sealed class DiscreteSpaceTests
{
    private static readonly DiscreteSpace Blocks = new([
        new DiscreteDecision("block0/input", 2, "input"), new DiscreteDecision("block0/op", 13, "op"),
        new DiscreteDecision("block1/input", 3, "input"), new DiscreteDecision("block1/op", 13, "op")]);

    [Fact]
    public void Key_RoundTripsThroughParseKey()
    {
        int[] sample = [1, 12, 2, 0];
        Assert.Equal("1-12-2-0", Blocks.Key(sample));
        Assert.Equal(sample, Blocks.ParseKey("1-12-2-0"));
    }

    [Fact]
    public void Validate_ChoiceBeyondItsPositionsCount_ThrowsNamingTheDecision()
    {
        var e = Assert.Throws<ArgumentException>(() => Blocks.Validate([2, 0, 0, 0]));
        Assert.Contains("block0/input", e.Message);
        Assert.Contains("[0, 2)", e.Message);
        Assert.Contains("3 choices", Assert.Throws<ArgumentException>(() => Blocks.Validate([0, 0, 0])).Message);
    }

    [Fact]
    public void ParseKey_Malformed_ThrowsNamingTheKey()
    {
        Assert.Contains("'1-x-2-0'", Assert.Throws<FormatException>(() => Blocks.ParseKey("1-x-2-0")).Message);
    }

    [Fact]
    public void SampleUniform_CoversEveryChoiceOfEachDecisionAndNoOther()
    {
        var rng = new SeededRandom(1);
        var seen = Blocks.Decisions.Select(_ => new HashSet<int>()).ToArray();
        for (int i = 0; i < 500; i++)
        {
            int[] s = Blocks.SampleUniform(rng);
            Blocks.Validate(s);
            for (int d = 0; d < s.Length; d++) seen[d].Add(s[d]);
        }
        Assert.Equal(Blocks.Decisions.Select(d => d.Choices), seen.Select(s => s.Count));
        Assert.Equal(2.0 * 13 * 3 * 13, Blocks.Size());
    }

    [Fact]
    public void Constructor_DuplicateNameOrNoChoices_Throws()
    {
        Assert.Contains("twice", Assert.Throws<ArgumentException>(() => new DiscreteSpace([new DiscreteDecision("a", 2), new DiscreteDecision("a", 3)])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DiscreteDecision("a", 0));
        Assert.Equal("a", new DiscreteDecision("a", 2).Kind);
    }
}
