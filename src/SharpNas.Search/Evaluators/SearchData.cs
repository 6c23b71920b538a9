using SharpNas.Data;
using SharpNas.Training;

namespace SharpNas.Search.Evaluators;

/// <summary>The data of a search as every process of it loads it: the dataset spec, a training subset and the
/// validation split carved from the training set (both drawn with the run's seed, so a worker gets the coordinator's
/// images).</summary>
public static class SearchData
{
    /// <summary>Loads <paramref name="data"/>, keeps <paramref name="trainSubset"/> training images (0 = all) and carves
    /// <paramref name="valSize"/> (a count or a fraction) for validation.</summary>
    public static (DataSpec Spec, TrainingData Data) Load(string data, string valSize, int trainSubset, ulong seed)
    {
        DataSpec spec = DataSpec.Parse(data);
        DatasetPair pair = spec.Load();
        ImageDataset train = pair.Train;
        if (trainSubset < 0) throw new ArgumentException($"--train-subset must be non-negative, got {trainSubset}");
        if (trainSubset > 0 && trainSubset < train.Count)
            train = new ValidationSplit(ValidationSize.FromCount(train.Count - trainSubset), seed).Apply(train).Train;
        DatasetSplit split = new ValidationSplit(ValidationSize.Parse(valSize), seed).Apply(train);
        return (spec, new TrainingData(split.Train, split.Validation.Count > 0 ? split.Validation : null, pair.Test));
    }
}
