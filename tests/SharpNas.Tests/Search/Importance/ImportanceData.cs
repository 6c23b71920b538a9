using SharpNas.Engine;
using SharpNas.Search.Importance;

namespace SharpNas.Tests.Search.Importance;

/// <summary>Synthetic classification data for the criteria's tests.</summary>
internal static class ImportanceData
{
    /// <summary>n samples, p features, labels uniform in [0, classes); the first <paramref name="informative"/>
    /// features carry a class centroid × <paramref name="separation"/> plus N(0,1) noise, the rest are N(0,1).</summary>
    public static (FeatureMatrix X, int[] Labels) Classes(int n, int p, int classes, int informative, double separation, ulong seed)
    {
        var rng = new SeededRandom(seed);
        var centroids = new double[classes, informative];
        for (int c = 0; c < classes; c++)
            for (int j = 0; j < informative; j++) centroids[c, j] = rng.NextNormal();
        var labels = new int[n];
        var data = new float[n * p];
        for (int s = 0; s < n; s++)
        {
            labels[s] = rng.NextInt(classes);
            for (int j = 0; j < p; j++)
                data[s * p + j] = (float)(rng.NextNormal() + (j < informative ? separation * centroids[labels[s], j] : 0));
        }
        return (FeatureMatrix.Wrap(data, n, p), labels);
    }

    /// <summary>An n-row matrix whose column j holds <paramref name="column"/>[j](row).</summary>
    public static FeatureMatrix Columns(int n, params Func<int, double>[] column)
    {
        var data = new double[n * column.Length];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < column.Length; j++) data[s * column.Length + j] = column[j](s);
        return FeatureMatrix.FromValues(data, n, column.Length);
    }
}
