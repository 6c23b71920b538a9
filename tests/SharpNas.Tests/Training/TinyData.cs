using SharpNas.Data;
using SharpNas.Engine;

namespace SharpNas.Tests.Training;

/// <summary>Small synthetic image sets whose class is visible in the pixels, for fast training tests.</summary>
internal static class TinyData
{
    /// <summary>n images of c×size×size; class k brightens row band k.</summary>
    public static ImageDataset Make(int n, int classes = 3, int channels = 1, int size = 8, ulong seed = 1, string name = "tiny")
    {
        var rng = new SeededRandom(seed);
        var pixels = new byte[n * channels * size * size];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int label = i % classes;
            labels[i] = label;
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < size; y++)
                    for (int x = 0; x < size; x++)
                    {
                        bool band = y * classes / size == label;
                        int v = (band ? 170 : 40) + rng.NextInt(60);
                        pixels[((i * channels + c) * size + y) * size + x] = (byte)v;
                    }
        }
        return new ImageDataset(name, channels, size, size, Enumerable.Range(0, classes).Select(k => $"c{k}").ToArray(), pixels, labels);
    }
}
