using System.Runtime.InteropServices;

namespace SharpNas.Search.Ensembles;

/// <summary>An ensemble that averages its members' softmax outputs (the stage-wise paper's ensemble of candidates).</summary>
public static class SoftmaxEnsemble
{
    /// <summary>Top-1 accuracy of the averaged probabilities; each member is an N × classes float32 matrix.</summary>
    public static double Accuracy(IReadOnlyList<float[]> members, ReadOnlySpan<int> labels, int classes)
    {
        if (members.Count == 0) throw new ArgumentException("ensemble: no members");
        int n = labels.Length;
        foreach (float[] m in members)
            if (m.Length != n * classes) throw new ArgumentException($"ensemble: a member has {m.Length} probabilities, expected {n} × {classes}");
        var mean = new float[classes];
        int hits = 0;
        for (int i = 0; i < n; i++)
        {
            Array.Clear(mean);
            foreach (float[] m in members)
                System.Numerics.Tensors.TensorPrimitives.Add(mean, m.AsSpan(i * classes, classes), mean);
            if (System.Numerics.Tensors.TensorPrimitives.IndexOfMax(mean) == labels[i]) hits++;
        }
        return (double)hits / n;
    }

    /// <summary>Reads a member's probability file.</summary>
    public static float[] Load(string path) => MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(path)).ToArray();
}
