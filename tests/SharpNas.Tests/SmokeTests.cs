namespace SharpNas.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void CliReturnsZero() => Assert.Equal(0, SharpNas.Cli.Program.Main([]));
}
