using SharpNas.Search.Evaluators;
using SharpNas.Search.Importance;

namespace SharpNas.Cli.Commands;

/// <summary>Maps --criterion to a stage scorer.</summary>
internal static class StageScorers
{
    public static IStageScorer Create(string criterion, ulong seed) =>
        new ImportanceStageScorer(ImportanceStageScorer.ParseCriterion(criterion),
            new ImportanceOptions { IlFs = new IlFsOptions { Seed = seed } });
}
