namespace SharpNas.Engine.Modules;

/// <summary>Parameter initialisers, with PyTorch's formulas.</summary>
public static class Init
{
    /// <summary>N(0, std²).</summary>
    public static void Normal(Tensor t, double std, SeededRandom rng)
    {
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)(rng.NextNormal() * std);
    }

    /// <summary>U(−bound, bound).</summary>
    public static void Uniform(Tensor t, double bound, SeededRandom rng)
    {
        Span<float> s = t.Span;
        for (int i = 0; i < s.Length; i++) s[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
    }

    /// <summary>Kaiming (He) normal for ReLU: std = √(2/fan), fan = fan_out (Cout·KH·KW, as PyTorch's
    /// <c>kaiming_normal_(mode="fan_out")</c>) or fan_in (Cin/groups·KH·KW).</summary>
    public static void KaimingNormal(Tensor weight, SeededRandom rng, bool fanOut = true)
    {
        int receptive = weight.Size / (weight.Dim(0) * weight.Dim(1));
        int fan = fanOut ? weight.Dim(0) * receptive : weight.Dim(1) * receptive;
        Normal(weight, Math.Sqrt(2.0 / fan), rng);
    }

    /// <summary>PyTorch's default for Linear and Conv weights and biases: U(±1/√fan_in).</summary>
    public static void DefaultUniform(Tensor t, int fanIn, SeededRandom rng) => Uniform(t, 1.0 / Math.Sqrt(fanIn), rng);
}
