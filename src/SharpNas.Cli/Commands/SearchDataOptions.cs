using System.CommandLine;
using SharpNas.Data;
using SharpNas.Engine.Optim;
using SharpNas.Training;

namespace SharpNas.Cli.Commands;

/// <summary>The options every search command shares (data, its split, child training, seed, threads) and the loading
/// of the data they describe. <c>--schedule</c> reaches every training of a search through <see cref="Trainer"/>: it is
/// kept by name and resolved over each training's own epochs.</summary>
internal sealed class SearchDataOptions
{
    public Option<string> Data { get; } = new("--data") { Description = "dataset spec (builtin, cifar10:DIR, …)", DefaultValueFactory = _ => "builtin" };
    public Option<string> ValSize { get; } = new("--val-size") { Description = "validation images carved from the training set (the search reads validation accuracy)", DefaultValueFactory = _ => "0.1" };
    public Option<int?> TrainSubset { get; }
    public Option<int> Batch { get; }
    public Option<double> Lr { get; }
    public Option<string> Schedule { get; }
    public Option<ulong> Seed { get; }
    public Option<int?> Threads { get; } = new("--threads") { Description = "worker threads" };

    public SearchDataOptions(int? defaultSubset, int batch, double lr, ulong seed, string schedule = "cosine")
    {
        TrainSubset = new("--train-subset")
        {
            Description = $"use only this many training images (0 = all; default {(defaultSubset is int d ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : "all")})",
            DefaultValueFactory = _ => defaultSubset,
        };
        Batch = new("--batch") { Description = "batch size", DefaultValueFactory = _ => batch };
        Lr = new("--lr") { Description = "base learning rate of the trained networks", DefaultValueFactory = _ => lr };
        Schedule = new("--schedule")
        {
            Description = "learning-rate schedule of every training, over that training's epochs: cosine, multistep (×0.1 at 50% and 75%), constant, onecycle (rising to --lr over the first 30%, then falling), or warmupN-<one of them>",
            DefaultValueFactory = _ => schedule,
        };
        Seed = new("--seed") { Description = "the run's seed", DefaultValueFactory = _ => seed };
    }

    /// <summary>Adds the options to a command.</summary>
    public void AddTo(Command command)
    {
        foreach (Option o in new Option[] { Data, ValSize, TrainSubset, Batch, Lr, Schedule, Seed, Threads }) command.Options.Add(o);
    }

    /// <summary>Applies --threads, loads the data, takes the training subset (<paramref name="subsetDefault"/> when the
    /// option is not given) and carves the validation split.</summary>
    public (DataSpec Spec, TrainingData Data) Load(ParseResult p, int? subsetDefault = null)
    {
        ThreadSettings.Apply(p.GetValue(Threads));
        ulong seed = p.GetValue(Seed);
        DataSpec spec = DataSpec.Parse(p.GetValue(Data)!);
        DatasetPair pair = spec.Load();
        ImageDataset train = pair.Train;
        int subset = p.GetValue(TrainSubset) ?? subsetDefault ?? 0;
        if (subset < 0) throw new ArgumentException($"--train-subset must be non-negative, got {subset}");
        if (subset > 0 && subset < train.Count)
            train = new ValidationSplit(ValidationSize.FromCount(train.Count - subset), seed).Apply(train).Train;
        DatasetSplit split = new ValidationSplit(ValidationSize.Parse(p.GetValue(ValSize)!), seed).Apply(train);
        return (spec, new TrainingData(split.Train, split.Validation.Count > 0 ? split.Validation : null, pair.Test));
    }

    /// <summary>Training options of the searched networks (a bad <c>--schedule</c> is an error here). The schedule is kept by
    /// name, so a training of another length (<c>options with { Epochs = n }</c>) gets it over its own n epochs.</summary>
    public TrainerOptions Trainer(ParseResult p, int epochs) => new()
    {
        Epochs = epochs, BatchSize = p.GetValue(Batch), LearningRate = p.GetValue(Lr), ScheduleName = ScheduleName(p), Seed = p.GetValue(Seed),
        EvaluateTestEveryEpoch = false,
    };

    /// <summary>The <c>--schedule</c> given, checked (one-line error naming the option).</summary>
    public string ScheduleName(ParseResult p)
    {
        string name = p.GetValue(Schedule)!;
        try { _ = LrSchedule.Parse(name, 1); }
        catch (FormatException e) { throw new ArgumentException($"--schedule: {e.Message}"); }
        return name;
    }
}
