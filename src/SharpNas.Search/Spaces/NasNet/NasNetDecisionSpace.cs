using System.Globalization;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// NASNet's cell pair as a discrete space for the controller, random search and evolution: per block of the normal
/// then the reduction cell, five decisions (input 1, input 2, op 1, op 2, combine). Decisions of the same field and
/// size share a kind, so the controller embeds, e.g., every op choice with one table.
/// </summary>
public sealed class NasNetDecisionSpace : IDiscreteSpace
{
    private static readonly string[] Fields = ["input1", "input2", "op1", "op2", "combine"];

    /// <inheritdoc/>
    public IReadOnlyList<DiscreteDecision> Decisions { get; }

    /// <summary>Blocks per cell (B).</summary>
    public int Blocks { get; }

    /// <summary>The space of cell pairs with <paramref name="blocks"/> blocks per cell.</summary>
    public NasNetDecisionSpace(int blocks = NasNetCell.DefaultBlocks)
    {
        Blocks = blocks;
        int[] choices = NasNetGenotype.DecisionChoices(blocks);
        var decisions = new List<DiscreteDecision>(choices.Length);
        for (int i = 0; i < choices.Length; i++)
        {
            string cell = i < choices.Length / 2 ? "normal" : "reduction";
            int block = i % (choices.Length / 2) / 5;
            string field = Fields[i % 5];
            string kind = field.StartsWith("input", StringComparison.Ordinal) ? "input" + choices[i].ToString(CultureInfo.InvariantCulture)
                : field.StartsWith("op", StringComparison.Ordinal) ? "op" : "combine";
            decisions.Add(new DiscreteDecision($"{cell}.block{block}.{field}", choices[i], kind));
        }
        Decisions = decisions;
    }
}
