using System.Collections;
using System.Runtime.ExceptionServices;
using SharpNas.Engine;

namespace SharpNas.Data;

/// <summary>
/// Cuts a dataset into batches of normalised float images, with a background thread preparing the next batch
/// while the consumer works on the current one (double buffering).
/// <code>
/// using var loader = new BatchLoader(split.Train, new BatchLoaderOptions { BatchSize = 128, Seed = 1, Augmentation = AugmentationOptions.Cifar });
/// foreach (Batch b in loader.Epoch(epoch)) { /* b valid until the next iteration */ }
/// using var eval = BatchLoader.ForEvaluation(split.Validation, 256, loader.Normalization);
/// foreach (Batch b in eval.Evaluation()) { … }
/// </code>
/// <para>Epoch <c>e</c>'s order and augmentation depend only on (seed, e), so a run resumed at the start of an
/// epoch sees the same batches as an uninterrupted one. In steady state nothing is allocated per batch; starting
/// an epoch allocates a few small objects. One iteration at a time per loader; not thread-safe otherwise.</para>
/// </summary>
public sealed class BatchLoader : IDisposable
{
    private readonly ImageDataset _dataset;
    private readonly ImageAugmenter _augmenter;
    private readonly SeededRandom _root;
    private readonly Batch[] _slots;
    private readonly int[] _order;
    private readonly BatchEnumerator _enumerator;

    // Producer/consumer hand-off: _free counts slots the producer may fill, _ready counts filled slots.
    private readonly SemaphoreSlim _free = new(2, int.MaxValue);
    private readonly SemaphoreSlim _ready = new(0, int.MaxValue);
    private readonly SemaphoreSlim _start = new(0, int.MaxValue);
    private readonly SemaphoreSlim _finished = new(0, int.MaxValue);
    private Thread? _worker;
    private volatile bool _cancel;
    private volatile bool _disposed;
    private ExceptionDispatchInfo? _error;

    // The iteration in progress.
    private bool _active, _running, _holding;
    private int _batchCount, _next;
    private SeededRandom? _augmentRandom;
    private Batch? _current;

    /// <summary>Creates a loader; computes the normalisation from <paramref name="dataset"/> when the options give none.</summary>
    public BatchLoader(ImageDataset dataset, BatchLoaderOptions options)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        if (options.BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(options), options.BatchSize, "batch size must be positive");
        options.Augmentation.Validate(dataset);
        _dataset = dataset;
        Options = options;
        Normalization = options.Augmentation.Normalization ?? ChannelStatistics.Compute(dataset);
        _augmenter = new ImageAugmenter(dataset.Channels, dataset.Height, dataset.Width, options.Augmentation, Normalization);
        _root = new SeededRandom(options.Seed);
        int capacity = Math.Max(1, Math.Min(options.BatchSize, dataset.Count));
        _slots = [new Batch(capacity, dataset.Channels, dataset.Height, dataset.Width), new Batch(capacity, dataset.Channels, dataset.Height, dataset.Width)];
        _order = new int[dataset.Count];
        _enumerator = new BatchEnumerator(this);
    }

    /// <summary>A loader for evaluation: no shuffle, no augmentation, normalised with <paramref name="normalization"/>
    /// (normally the training loader's <see cref="Normalization"/>).</summary>
    public static BatchLoader ForEvaluation(ImageDataset dataset, int batchSize, ChannelStatistics normalization, bool prefetch = true) =>
        new(dataset, new BatchLoaderOptions
        {
            BatchSize = batchSize,
            Shuffle = false,
            Prefetch = prefetch,
            Augmentation = AugmentationOptions.None with { Normalization = normalization },
        });

    /// <summary>The dataset batched.</summary>
    public ImageDataset Dataset => _dataset;

    /// <summary>The options given.</summary>
    public BatchLoaderOptions Options { get; }

    /// <summary>The per-channel normalisation used (given, or computed from the dataset).</summary>
    public ChannelStatistics Normalization { get; }

    /// <summary>Batches in a training epoch (<see cref="Epoch"/>), honouring <see cref="BatchLoaderOptions.DropLast"/>.</summary>
    public int BatchesPerEpoch => Options.DropLast ? _dataset.Count / Options.BatchSize : (_dataset.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Batches in an evaluation pass (<see cref="Evaluation"/>): the last, smaller batch is kept.</summary>
    public int EvaluationBatches => (_dataset.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Training epoch <paramref name="epoch"/>: order shuffled (when enabled) and images augmented from
    /// streams derived from (seed, epoch) only.</summary>
    public BatchSequence Epoch(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        return new BatchSequence(this, epoch);
    }

    /// <summary>An evaluation pass: dataset order, no augmentation, normalised, last smaller batch kept.</summary>
    public BatchSequence Evaluation() => new(this, -1);

    internal BatchEnumerator Begin(int epoch)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_active) throw new InvalidOperationException($"BatchLoader over '{_dataset.Name}': an iteration is already in progress; finish or dispose it before starting another");
        bool training = epoch >= 0;
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (training && Options.Shuffle) _root.Derive("data/shuffle", epoch).Shuffle(_order.AsSpan());
        _augmentRandom = training ? _root.Derive("data/augment", epoch) : null;
        _batchCount = training ? BatchesPerEpoch : EvaluationBatches;
        _next = 0;
        _holding = false;
        _current = null;
        _error = null;
        _cancel = false;
        _active = true;
        if (Options.Prefetch && _batchCount > 0)
        {
            if (_worker is null)
            {
                _worker = new Thread(WorkerLoop) { IsBackground = true, Name = "SharpNas batch prefetch" };
                _worker.Start();
            }
            _running = true;
            _start.Release();
        }
        return _enumerator;
    }

    /// <summary>Bytes the prefetch thread allocated during the last iteration (a test checks it stays 0).</summary>
    internal long LastEpochWorkerAllocatedBytes { get; private set; }

    internal bool MoveNext()
    {
        if (!_active) return false;
        if (!Options.Prefetch)
        {
            if (_next >= _batchCount) { End(); return false; }
            Batch slot = _slots[_next & 1];
            Fill(slot, _next++);
            _current = slot;
            return true;
        }
        if (_holding) { _holding = false; _free.Release(); }
        if (_next >= _batchCount) { End(); return false; }
        _ready.Wait();
        if (_error is ExceptionDispatchInfo error) { End(); error.Throw(); }
        _current = _slots[_next & 1];
        _next++;
        _holding = true;
        return true;
    }

    internal Batch Current => _current ?? throw new InvalidOperationException("BatchLoader: no current batch (call MoveNext first)");

    /// <summary>Stops the iteration in progress and returns the loader to idle with both slots free.</summary>
    internal void End()
    {
        if (!_active) return;
        if (_running)
        {
            _cancel = true;
            _free.Release();
            _finished.Wait();
            _running = false;
            while (_ready.Wait(0)) { }
            while (_free.Wait(0)) { }
            _free.Release(2);
        }
        _active = false;
        _holding = false;
        _current = null;
        _augmentRandom = null;
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                for (int b = 0; b < _batchCount; b++)
                {
                    _free.Wait();
                    if (_cancel) break;
                    Fill(_slots[b & 1], b);
                    _ready.Release();
                }
            }
            catch (Exception e)
            {
                _error = ExceptionDispatchInfo.Capture(e);
                _ready.Release();
            }
            LastEpochWorkerAllocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
            _finished.Release();
        }
    }

    private void Fill(Batch batch, int number)
    {
        int size = _dataset.ImageSize;
        int start = number * Options.BatchSize;
        int count = Math.Min(Options.BatchSize, _dataset.Count - start);
        int[] labels = _dataset.Labels;
        SeededRandom? random = _augmentRandom;
        for (int j = 0; j < count; j++)
        {
            int index = _order[start + j];
            batch.Indices[j] = index;
            batch.Labels[j] = labels[index];
            Span<float> destination = batch.Images.AsSpan(j * size, size);
            if (random is null) _augmenter.Normalize(_dataset.Image(index), destination);
            else _augmenter.Augment(_dataset.Image(index), destination, random);
        }
        batch.Count = count;
        batch.Number = number;
    }

    /// <summary>Stops the background thread.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        End();
        _disposed = true;
        if (_worker is not null)
        {
            _start.Release();
            _worker.Join();
        }
        _free.Dispose();
        _ready.Dispose();
        _start.Dispose();
        _finished.Dispose();
    }

    /// <summary>The loader's single, reused enumerator (so iterating allocates nothing per batch).</summary>
    public sealed class BatchEnumerator : IEnumerator<Batch>
    {
        private readonly BatchLoader _loader;

        internal BatchEnumerator(BatchLoader loader) => _loader = loader;

        /// <summary>The current batch; valid until the next <see cref="MoveNext"/>.</summary>
        public Batch Current => _loader.Current;

        object IEnumerator.Current => Current;

        /// <summary>Advances to the next batch, releasing the current one's buffer to the producer.</summary>
        public bool MoveNext() => _loader.MoveNext();

        /// <summary>Not supported: start a new iteration with <see cref="Epoch"/> or <see cref="Evaluation"/>.</summary>
        public void Reset() => throw new NotSupportedException("start a new iteration with BatchLoader.Epoch or BatchLoader.Evaluation");

        /// <summary>Ends the iteration (also when left early), so the loader can start another.</summary>
        public void Dispose() => _loader.End();
    }
}

/// <summary>
/// The batches of one epoch or evaluation pass of a <see cref="BatchLoader"/>, for <c>foreach</c>. The iteration
/// starts when enumerated; only one iteration per loader may be in progress.
/// </summary>
public readonly struct BatchSequence : IEnumerable<Batch>
{
    private readonly BatchLoader _loader;
    private readonly int _epoch;

    internal BatchSequence(BatchLoader loader, int epoch) => (_loader, _epoch) = (loader, epoch);

    /// <summary>The epoch (−1 for an evaluation pass).</summary>
    public int EpochNumber => _epoch;

    /// <summary>Starts the iteration.</summary>
    public BatchLoader.BatchEnumerator GetEnumerator() => _loader.Begin(_epoch);

    IEnumerator<Batch> IEnumerable<Batch>.GetEnumerator() => GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
