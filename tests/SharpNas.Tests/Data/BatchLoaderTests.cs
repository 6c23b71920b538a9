using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class BatchLoaderTests
{
    private static readonly ImageDataset Colour = ValidationSplitTests.Traceable(103, 10, channels: 3, side: 8);

    private static BatchLoaderOptions Options(bool prefetch = true, bool dropLast = false, ulong seed = 7) => new()
    {
        BatchSize = 16,
        Seed = seed,
        DropLast = dropLast,
        Prefetch = prefetch,
        Augmentation = AugmentationOptions.Cifar with { CutoutSize = 3 },
    };

    /// <summary>Copies of every batch of an iteration (indices, labels, images).</summary>
    private static List<(int[] Indices, long[] Labels, float[] Images)> Collect(BatchSequence sequence)
    {
        var batches = new List<(int[], long[], float[])>();
        foreach (Batch b in sequence)
            batches.Add((b.Indices[..b.Count], b.Labels[..b.Count], b.ImageSpan.ToArray()));
        return batches;
    }

    private static void AssertSame(List<(int[] Indices, long[] Labels, float[] Images)> a, List<(int[] Indices, long[] Labels, float[] Images)> b)
    {
        Assert.Equal(a.Count, b.Count);
        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i].Indices, b[i].Indices);
            Assert.Equal(a[i].Labels, b[i].Labels);
            Assert.Equal(a[i].Images, b[i].Images);
        }
    }

    [Fact]
    public void Epoch_VisitsEveryIndexExactlyOnce_WithMatchingLabels()
    {
        using var loader = new BatchLoader(Colour, Options());
        var batches = Collect(loader.Epoch(0));
        Assert.Equal(7, batches.Count);
        Assert.Equal(7, loader.BatchesPerEpoch);
        Assert.Equal(7, batches[^1].Indices.Length); // 103 = 6 × 16 + 7
        Assert.Equal(Enumerable.Range(0, 103), batches.SelectMany(b => b.Indices).Order());
        foreach (var b in batches)
            for (int j = 0; j < b.Indices.Length; j++) Assert.Equal(Colour.Labels[b.Indices[j]], b.Labels[j]);
        Assert.NotEqual(Enumerable.Range(0, 103), batches.SelectMany(b => b.Indices)); // shuffled
    }

    [Fact]
    public void Epoch_DropLast_SkipsThePartialBatch()
    {
        using var loader = new BatchLoader(Colour, Options(dropLast: true));
        var batches = Collect(loader.Epoch(3));
        Assert.Equal(6, batches.Count);
        Assert.All(batches, b => Assert.Equal(16, b.Indices.Length));
        Assert.Equal(96, batches.SelectMany(b => b.Indices).Distinct().Count());
    }

    [Fact]
    public void Epoch_SameSeedAndEpoch_SameBatches_WhateverCameBefore()
    {
        using var first = new BatchLoader(Colour, Options());
        var epoch2 = Collect(first.Epoch(2));

        using var second = new BatchLoader(Colour, Options());
        Collect(second.Epoch(0));
        foreach (Batch _ in second.Epoch(1)) break; // an interrupted epoch
        AssertSame(epoch2, Collect(second.Epoch(2)));
    }

    [Fact]
    public void Epoch_DifferentEpochOrSeed_DifferentOrder()
    {
        using var loader = new BatchLoader(Colour, Options());
        using var other = new BatchLoader(Colour, Options(seed: 8));
        int[] Order(BatchLoader l, int e) => Collect(l.Epoch(e)).SelectMany(b => b.Indices).ToArray();
        Assert.NotEqual(Order(loader, 0), Order(loader, 1));
        Assert.NotEqual(Order(loader, 0), Order(other, 0));
    }

    [Fact]
    public void Prefetch_GivesTheSameBatchesAsNoPrefetch()
    {
        using var prefetching = new BatchLoader(Colour, Options(prefetch: true));
        using var inline = new BatchLoader(Colour, Options(prefetch: false));
        AssertSame(Collect(inline.Epoch(4)), Collect(prefetching.Epoch(4)));
        AssertSame(Collect(inline.Evaluation()), Collect(prefetching.Evaluation()));
    }

    [Fact]
    public void Evaluation_DatasetOrder_NoAugmentation_LastBatchKept()
    {
        using var loader = new BatchLoader(Colour, Options(dropLast: true));
        var batches = Collect(loader.Evaluation());
        Assert.Equal(Enumerable.Range(0, 103), batches.SelectMany(b => b.Indices));
        var augmenter = new ImageAugmenter(3, 8, 8, AugmentationOptions.None, loader.Normalization);
        var expected = new float[Colour.ImageSize];
        augmenter.Normalize(Colour.Image(100), expected);
        Assert.Equal(expected, batches[6].Images.AsSpan(4 * Colour.ImageSize, Colour.ImageSize).ToArray());
    }

    [Fact]
    public void ForEvaluation_UsesTheGivenNormalization()
    {
        var stats = new ChannelStatistics([0.1f, 0.2f, 0.3f], [0.5f, 0.5f, 0.5f]);
        using var loader = BatchLoader.ForEvaluation(Colour, 50, stats);
        Assert.Same(stats, loader.Normalization);
        Assert.Equal(3, loader.EvaluationBatches);
        Assert.Equal(103, Collect(loader.Evaluation()).Sum(b => b.Indices.Length));
    }

    [Fact]
    public void Batch_StaysValidUntilNextMoveNext_WhileTheNextIsPrepared()
    {
        using var loader = new BatchLoader(Colour, Options());
        var reference = Collect(loader.Epoch(5));
        int i = 0;
        foreach (Batch b in loader.Epoch(5))
        {
            float[] before = b.ImageSpan.ToArray();
            Thread.Sleep(5); // give the producer time to fill the other buffer
            Assert.Equal(before, b.ImageSpan.ToArray());
            Assert.Equal(reference[i].Images, before);
            Assert.Equal(i++, b.Number);
        }
    }

    [Fact]
    public void StartingASecondIterationWhileOneIsActive_Throws()
    {
        using var loader = new BatchLoader(Colour, Options());
        using var first = loader.Epoch(0).GetEnumerator();
        Assert.True(first.MoveNext());
        Assert.Throws<InvalidOperationException>(() => loader.Epoch(1).GetEnumerator());
    }

    [Fact]
    public void SteadyState_AllocatesNothingPerBatch()
    {
        ImageDataset data = ValidationSplitTests.Traceable(2000, 10, channels: 3, side: 8);
        using var loader = new BatchLoader(data, new BatchLoaderOptions { BatchSize = 20, Seed = 1, Augmentation = AugmentationOptions.Cifar with { CutoutSize = 4 } });
        foreach (Batch _ in loader.Epoch(0)) { } // warm up
        long consumer = 0;
        int batches = 0;
        foreach (Batch b in loader.Epoch(1))
        {
            if (b.Number == 1) consumer = GC.GetAllocatedBytesForCurrentThread();
            batches++;
        }
        consumer = GC.GetAllocatedBytesForCurrentThread() - consumer;
        Assert.Equal(100, batches);
        Assert.Equal(0, consumer);
        Assert.Equal(0, loader.LastEpochWorkerAllocatedBytes);
    }
}
