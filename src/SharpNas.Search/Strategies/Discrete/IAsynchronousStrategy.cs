namespace SharpNas.Search.Strategies.Discrete;

/// <summary>
/// A strategy that can run asynchronously (the form in which Real et al. ran regularized evolution): every proposal is
/// made from whatever has been observed when it is made, and samples are observed in the order their trials finish, so
/// the history need not be in sample order nor as long as the sample's number. <see cref="DiscreteSearch"/> with
/// <see cref="DiscreteSearch.Asynchronous"/> uses it to keep M trials in flight.
/// </summary>
public interface IAsynchronousStrategy : IDiscreteStrategy
{
    /// <summary>Proposes sample number <paramref name="index"/> from the current history, whatever its length. Drawn
    /// from the same random stream as <see cref="IDiscreteStrategy.ProposeAt"/> for that index, so with the history a
    /// sequential search would have, it is the sequential search's sample. Not cached.</summary>
    int[] ProposeAsynchronously(int index);
}
