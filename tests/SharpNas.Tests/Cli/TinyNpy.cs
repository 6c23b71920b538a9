using SharpNas.Data;
using SharpNas.Tests.Data;
using SharpNas.Tests.Training;

namespace SharpNas.Tests.Cli;

/// <summary>Tiny datasets written as <c>.npy</c> files for command-line tests (8×8 images, channels last).</summary>
internal static class TinyNpy
{
    /// <summary>Writes a train and a test set into <paramref name="folder"/> and returns the data spec <c>npy:DIR</c>.</summary>
    public static string Write(string folder, int train = 60, int test = 24, int channels = 1, int classes = 3)
    {
        Directory.CreateDirectory(folder);
        ImageDataset trainSet = TinyData.Make(train, classes, channels), testSet = TinyData.Make(test, classes, channels, seed: 9);
        foreach ((string prefix, ImageDataset set) in new[] { ("train", trainSet), ("test", testSet) })
        {
            string shape = channels == 1 ? $"({set.Count}, {set.Height}, {set.Width})" : $"({set.Count}, {set.Height}, {set.Width}, {channels})";
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}_images.npy"),
                SyntheticFiles.Npy($"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape}, }}", ChannelsLast(set)));
            File.WriteAllBytes(Path.Combine(folder, $"{prefix}_labels.npy"), SyntheticFiles.NpyLabelsInt64(set.Labels));
        }
        return "npy:" + folder;
    }

    private static byte[] ChannelsLast(ImageDataset set)
    {
        int c = set.Channels, plane = set.Height * set.Width;
        var bytes = new byte[set.Pixels.Length];
        for (int i = 0; i < set.Count; i++)
            for (int ch = 0; ch < c; ch++)
                for (int p = 0; p < plane; p++)
                    bytes[(i * plane + p) * c + ch] = set.Pixels[(i * c + ch) * plane + p];
        return bytes;
    }
}
