using SharpNas.Search.Evaluators;

namespace SharpNas.Cli.Commands;

/// <summary>Maps --criterion to a stage scorer.</summary>
internal static class StageScorers
{
    public static IStageScorer Create(string criterion, ulong seed) =>
        throw new ArgumentException($"--criterion {criterion}: importance criteria arrive with the importance module");
}
