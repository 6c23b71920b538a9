namespace SharpNas.Engine.Parallel;

/// <summary>
/// A unit of parallel work for <see cref="WorkerPool.Run{TJob}(int, in TJob)"/>: a struct that carries its
/// inputs as fields and processes one contiguous range of work items.
/// </summary>
/// <remarks>
/// Implement it on a <c>struct</c>: the pool is generic over the job type, so the JIT specialises the call
/// and no delegate, closure or boxed copy is allocated per <c>Run</c>. The pool passes the job by reference;
/// every participant sees the same instance, so the job must only read its fields (write results through
/// the pointers or arrays it carries, each participant to its own items).
/// </remarks>
public interface IParallelJob
{
    /// <summary>Processes items <c>[begin, end)</c> on participant <paramref name="participant"/>
    /// (0 is the thread that called <c>Run</c>, 1.. are the pool's workers). A participant index is used by
    /// one thread at a time, so it can select per-thread scratch memory (<see cref="WorkerPool.Scratch(int)"/>).</summary>
    void Execute(int begin, int end, int participant);
}
