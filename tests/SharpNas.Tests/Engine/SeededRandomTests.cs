using SharpNas.Engine;

namespace SharpNas.Tests.Engine;

/// <summary>The run's random streams: reproducible, independent by purpose, with the stated ranges and moments.</summary>
public sealed class SeededRandomTests
{
    private static ulong[] Draw(SeededRandom r, int n) => Enumerable.Range(0, n).Select(_ => r.NextUInt64()).ToArray();

    [Fact]
    public void The_same_seed_gives_the_same_stream_and_another_seed_another()
    {
        Assert.Equal(Draw(new SeededRandom(42), 64), Draw(new SeededRandom(42), 64));
        Assert.NotEqual(Draw(new SeededRandom(42), 64), Draw(new SeededRandom(43), 64));
    }

    [Fact]
    public void The_stream_is_xoshiro256starstar_seeded_by_splitmix64_and_never_changes()
    {
        // Values computed independently from the published algorithms (SplitMix64 fills the four state words
        // from the seed, then xoshiro256** runs). If they change, saved runs no longer reproduce.
        Assert.Equal([0xbe6a36374160d49bUL, 0x214aaa0637a688c6UL, 0xf69d16de9954d388UL], Draw(new SeededRandom(12345), 3));
    }

    [Fact]
    public void A_derived_stream_depends_on_the_seed_and_purpose_not_on_what_was_drawn()
    {
        var a = new SeededRandom(7);
        var b = new SeededRandom(7);
        Draw(b, 100);
        Assert.Equal(Draw(a.Derive("init"), 16), Draw(b.Derive("init"), 16));
        Assert.NotEqual(Draw(a.Derive("init"), 16), Draw(a.Derive("data"), 16));
        Assert.NotEqual(Draw(a.Derive("epoch", 1), 16), Draw(a.Derive("epoch", 2), 16));
        Assert.NotEqual(Draw(a.Derive("init"), 16), Draw(new SeededRandom(8).Derive("init"), 16));
    }

    [Fact]
    public void Uniform_draws_stay_in_range_and_normal_draws_have_unit_moments()
    {
        var r = new SeededRandom(3);
        const int n = 200_000;
        double sum = 0, sumSq = 0;
        for (int i = 0; i < n; i++)
        {
            float f = r.NextFloat();
            Assert.InRange(f, 0f, 0.99999994f);
            double d = r.NextDouble();
            Assert.InRange(d, 0.0, 1.0 - 1e-17);
            Assert.InRange(r.NextInt(3, 9), 3, 8);
            double z = r.NextNormal();
            sum += z;
            sumSq += z * z;
        }
        double mean = sum / n, variance = sumSq / n - mean * mean;
        Assert.InRange(mean, -0.01, 0.01);          // standard error 0.0022
        Assert.InRange(variance, 0.985, 1.015);     // standard error 0.0032
    }

    [Fact]
    public void Shuffle_is_a_reproducible_permutation()
    {
        int[] a = Enumerable.Range(0, 50).ToArray(), b = Enumerable.Range(0, 50).ToArray();
        new SeededRandom(9).Shuffle(a.AsSpan());
        new SeededRandom(9).Shuffle(b.AsSpan());
        Assert.Equal(a, b);
        Assert.NotEqual(Enumerable.Range(0, 50), a);
        Assert.Equal(Enumerable.Range(0, 50), a.Order());
    }

    [Fact]
    public void NextInt_of_a_non_positive_bound_is_refused() =>
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new SeededRandom(1).NextInt(0));
}
