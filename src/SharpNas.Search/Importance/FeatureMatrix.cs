using SharpNas.Engine;

namespace SharpNas.Search.Importance;

/// <summary>
/// n samples × p features, stored row-major in float32 (the precision of the activations it is built from; every
/// criterion computes in float64). Cheap to build: <see cref="Wrap"/> takes ownership of an array without copying,
/// and <see cref="StageFeatureBuilder"/> appends pooled batches.
/// </summary>
public sealed class FeatureMatrix
{
    private readonly float[] _values;

    /// <summary>Number of samples (rows).</summary>
    public int Rows { get; }

    /// <summary>Number of features (columns).</summary>
    public int Columns { get; }

    private FeatureMatrix(float[] values, int rows, int columns)
    {
        _values = values;
        Rows = rows;
        Columns = columns;
    }

    /// <summary>Wraps <paramref name="values"/> (row-major, at least rows × columns long) without copying; the caller
    /// must not change it afterwards.</summary>
    public static FeatureMatrix Wrap(float[] values, int rows, int columns)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (rows < 0) throw new ArgumentOutOfRangeException(nameof(rows), rows, "FeatureMatrix: rows must be >= 0");
        if (columns < 0) throw new ArgumentOutOfRangeException(nameof(columns), columns, "FeatureMatrix: columns must be >= 0");
        long needed = (long)rows * columns;
        if (needed > int.MaxValue)
            throw new ArgumentException($"FeatureMatrix: {rows} × {columns} values exceed the largest array", nameof(rows));
        if (values.Length < needed)
            throw new ArgumentException($"FeatureMatrix: {rows} × {columns} needs {needed} values, the array has {values.Length}", nameof(values));
        return new FeatureMatrix(values, rows, columns);
    }

    /// <summary>A copy of <paramref name="values"/> (row-major), rounded to float32.</summary>
    public static FeatureMatrix FromValues(ReadOnlySpan<double> values, int rows, int columns)
    {
        if ((long)rows * columns != values.Length)
            throw new ArgumentException($"FeatureMatrix: {rows} × {columns} needs {(long)rows * columns} values, got {values.Length}", nameof(values));
        var data = new float[values.Length];
        for (int i = 0; i < data.Length; i++) data[i] = (float)values[i];
        return Wrap(data, rows, columns);
    }

    /// <summary>A copy of a rectangular array [samples, features], rounded to float32.</summary>
    public static FeatureMatrix FromArray(double[,] values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int rows = values.GetLength(0), columns = values.GetLength(1);
        var data = new float[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
                data[i * columns + j] = (float)values[i, j];
        return Wrap(data, rows, columns);
    }

    /// <summary>A 2-D tensor [samples, features] viewed as a feature matrix (copied).</summary>
    public static FeatureMatrix FromTensor(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.Rank != 2)
            throw new ArgumentException($"FeatureMatrix.FromTensor: expected a 2-D tensor [samples, features], got {tensor.ShapeString}", nameof(tensor));
        return Wrap(tensor.Span.ToArray(), tensor.Dim(0), tensor.Dim(1));
    }

    /// <summary>All values, row-major.</summary>
    public ReadOnlySpan<float> Values => _values.AsSpan(0, Rows * Columns);

    /// <summary>The features of sample <paramref name="row"/>.</summary>
    public ReadOnlySpan<float> Row(int row)
    {
        if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"FeatureMatrix has {Rows} rows");
        return _values.AsSpan(row * Columns, Columns);
    }

    /// <summary>One value.</summary>
    public float this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(row), row, $"FeatureMatrix has {Rows} rows");
            if ((uint)column >= (uint)Columns) throw new ArgumentOutOfRangeException(nameof(column), column, $"FeatureMatrix has {Columns} columns");
            return _values[row * Columns + column];
        }
    }

    /// <inheritdoc/>
    public override string ToString() => $"FeatureMatrix[{Rows} × {Columns}]";
}
