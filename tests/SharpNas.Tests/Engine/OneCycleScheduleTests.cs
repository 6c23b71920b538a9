using SharpNas.Engine.Optim;

namespace SharpNas.Tests.Engine;

/// <summary><c>--schedule onecycle</c>: PyTorch's OneCycleLR defaults (two cosine phases, peak at 30 %, div 25 and 1e4).</summary>
public sealed class OneCycleScheduleTests
{
    [Fact]
    public void OneCycle_StartsAtAFortiethOfThePeak_PeaksAt30Percent_AndEndsNearZero()
    {
        LrSchedule s = LrSchedule.Parse("onecycle", 30);
        Assert.Equal(new LrSchedule.OneCycle(30), s);
        const double lr = 0.4;
        Assert.Equal(lr / 25, s.At(0, lr), 12);
        Assert.Equal((lr + lr / 25) / 2, s.At(4.5, lr), 12);   // half-way up: the mean of the two ends
        Assert.Equal(lr, s.At(9, lr), 12);
        Assert.Equal((lr + lr / 25 / 1e4) / 2, s.At(19.5, lr), 12);   // half-way down
        Assert.Equal(lr / 25 / 1e4, s.At(30, lr), 12);
        double[] rates = Enumerable.Range(0, 301).Select(i => s.At(i / 10.0, lr)).ToArray();
        for (int i = 1; i <= 90; i++) Assert.True(rates[i] > rates[i - 1], $"not rising at epoch {i / 10.0}");
        for (int i = 91; i <= 300; i++) Assert.True(rates[i] < rates[i - 1], $"not falling at epoch {i / 10.0}");
    }
}
