using SharpNas.Engine.Parallel;

namespace SharpNas.Tests.Parallel;

public sealed class WorkerPoolTests
{
    private struct RecordOwnerJob(int[] owner) : IParallelJob
    {
        public readonly void Execute(int begin, int end, int participant)
        {
            for (int i = begin; i < end; i++) owner[i] = participant;
        }
    }

    private struct ThrowingJob : IParallelJob
    {
        public readonly void Execute(int begin, int end, int participant)
        {
            if (participant == 1) throw new InvalidOperationException("boom on worker");
        }
    }

    private struct NestedJob(WorkerPool pool, int[] owner) : IParallelJob
    {
        public readonly void Execute(int begin, int end, int participant)
        {
            // A Run from inside a job runs inline, on the same participant.
            var inner = new int[4];
            pool.Run(4, new RecordOwnerJob(inner));
            foreach (int p in inner) if (p != participant) throw new InvalidOperationException("nested run left its participant");
            for (int i = begin; i < end; i++) owner[i] = participant;
        }
    }

    [Fact]
    public void Run_ThreeThreads_SplitsItemsIntoContiguousDeterministicRanges()
    {
        using var pool = new WorkerPool(3);
        var owner = new int[10];
        pool.Run(10, new RecordOwnerJob(owner));
        // Participant p gets [10·p/3, 10·(p+1)/3): [0,3), [3,6), [6,10).
        Assert.Equal(new[] { 0, 0, 0, 1, 1, 1, 2, 2, 2, 2 }, owner);
    }

    [Fact]
    public void Run_FewerItemsThanThreads_UsesOneParticipantPerItem()
    {
        using var pool = new WorkerPool(4);
        var owner = new int[] { -1, -1 };
        pool.Run(2, new RecordOwnerJob(owner));
        Assert.Equal(new[] { 0, 1 }, owner);
    }

    [Fact]
    public void Run_JobThrowsOnAWorker_RethrowsOnCallerAndPoolStaysUsable()
    {
        using var pool = new WorkerPool(2);
        var e = Assert.Throws<InvalidOperationException>(() => pool.Run(2, new ThrowingJob()));
        Assert.Equal("boom on worker", e.Message);
        var owner = new int[4];
        pool.Run(4, new RecordOwnerJob(owner));
        Assert.Equal(new[] { 0, 0, 1, 1 }, owner);
    }

    [Fact]
    public void Run_NestedInsideAJob_RunsInlineOnTheSameParticipant()
    {
        using var pool = new WorkerPool(2);
        var owner = new int[2];
        pool.Run(2, new NestedJob(pool, owner));
        Assert.Equal(new[] { 0, 1 }, owner);
    }

    [Fact]
    public void Run_SteadyState_AllocatesNoManagedBytes()
    {
        using var pool = new WorkerPool(2);
        var owner = new int[64];
        for (int i = 0; i < 3; i++) pool.Run(owner.Length, new RecordOwnerJob(owner));
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++) pool.Run(owner.Length, new RecordOwnerJob(owner));
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
