using System.Globalization;
using System.Text.RegularExpressions;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Genotypes;
using SharpNas.Training;

namespace SharpNas.Search.Spaces.StageWise;

/// <summary>
/// Weight transfer for the stage-wise search: module j of stage i of a candidate (a residual block, basic or bottleneck,
/// or a normal cell: state-dict prefix <c>layer{i}.{j}.</c>) takes the weights of module j of stage i of a deeper
/// pre-trained donor of the same module kind and width (e.g. a ResNet-110 trained by <c>sharpnas train</c>). The other
/// tensors (stem, classifier, the reduction cells between cell stages) are copied when the donor has them with the
/// candidate's shape and otherwise keep their initialisation (a reduction cell's input adjustment, whose shape
/// depends on how many cells the stage before it has).
/// A candidate stage deeper than the donor's is an error; so is a module whose tensors the donor lacks or has in
/// another shape (a donor of another module kind or width).
/// </summary>
public static partial class WeightTransfer
{
    [GeneratedRegex(@"^layer(\d+)\.(\d+)\.")]
    private static partial Regex BlockName();

    /// <summary>The donor tensors a candidate takes, under the candidate's names.</summary>
    public static IReadOnlyDictionary<string, Tensor> FromDonor(string donorPath, StageGenotype candidate)
    {
        SafetensorsFile donor = Safetensors.Load(donorPath);
        var donorDepth = new Dictionary<int, int>();
        foreach ((string name, _) in donor.Tensors)
            if (Block(name) is (int stage, int block))
                donorDepth[stage] = Math.Max(donorDepth.GetValueOrDefault(stage), block + 1);
        for (int s = 0; s < candidate.Depths.Count; s++)
        {
            int have = donorDepth.GetValueOrDefault(s + 1);
            if (candidate.Depths[s] > have)
                throw new GenotypeException($"--transfer-from {donorPath}: candidate stage {s + 1} has {candidate.Depths[s]} blocks, the donor has {have}; use a deeper donor");
        }
        string module = StageGenotype.ModuleName(candidate.Module);
        var own = candidate.Build(InputOf(donor, candidate, donorPath)).StateDict()
            .Where(t => !t.Name.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToList();
        // A non-block tensor the donor has in another shape leaves its whole sub-module (the first two name segments,
        // e.g. "reduction2.h1_adjust") at its initialisation, so a conv and its BN are never mixed.
        var leftOut = new HashSet<string>();
        foreach ((string name, Tensor t) in own)
        {
            bool inBlock = Block(name) is not null;
            if (!donor.ByName.TryGetValue(name, out Tensor? given))
            {
                if (inBlock) throw new GenotypeException($"--transfer-from {donorPath}: the donor has no tensor {name}; a {module} network of width {candidate.Width} was expected");
                leftOut.Add(SubModule(name));
            }
            else if (!given.HasShape(t.Shape))
            {
                if (inBlock) throw new GenotypeException($"--transfer-from {donorPath}: {name} is {given.ShapeString} in the donor, the candidate ({module}, width {candidate.Width}) needs {t.ShapeString}");
                leftOut.Add(SubModule(name));
            }
        }
        var result = new Dictionary<string, Tensor>();
        foreach ((string name, _) in own)
            if (!leftOut.Contains(SubModule(name)) && donor.ByName.TryGetValue(name, out Tensor? given))
                result[name] = given;
        return result;
    }

    private static string SubModule(string name)
    {
        int first = name.IndexOf('.', StringComparison.Ordinal);
        int second = first < 0 ? -1 : name.IndexOf('.', first + 1);
        return second < 0 ? name : name[..second];
    }

    private static (int Stage, int Block)? Block(string name)
    {
        Match m = BlockName().Match(name);
        return m.Success
            ? (int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture))
            : null;
    }

    // Parameter shapes of the stage-wise networks do not depend on the image size: the donor's stem gives the channels,
    // its classifier the classes.
    private static InputSpec InputOf(SafetensorsFile donor, StageGenotype candidate, string donorPath)
    {
        (string stem, string classifier) = candidate.Module == StageModule.Cell ? ("stem_conv.weight", "classifier.weight") : ("conv1.weight", "fc.weight");
        if (!donor.ByName.TryGetValue(stem, out Tensor? s) || s.Rank != 4 || !donor.ByName.TryGetValue(classifier, out Tensor? c) || c.Rank != 2)
            throw new GenotypeException($"--transfer-from {donorPath}: no {stem} and {classifier} found; a {StageGenotype.ModuleName(candidate.Module)} network was expected");
        return new InputSpec(s.Dim(1), 32, 32, c.Dim(0));
    }
}
