using System.Globalization;
using System.Text.RegularExpressions;
using SharpNas.Engine;
using SharpNas.Engine.IO;
using SharpNas.Search.Genotypes;

namespace SharpNas.Search.Spaces.StageWise;

/// <summary>
/// Weight transfer for the stage-wise search: block j of stage i of a candidate takes the weights of block j of stage i
/// of a deeper pre-trained donor of the same module kind (e.g. a ResNet-110 trained by <c>sharpnas train</c>); the stem
/// and the classifier are copied too. A candidate stage deeper than the donor's is an error.
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
        {
            Match m = BlockName().Match(name);
            if (!m.Success) continue;
            int stage = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), block = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            donorDepth[stage] = Math.Max(donorDepth.GetValueOrDefault(stage), block + 1);
        }
        for (int s = 0; s < candidate.Depths.Count; s++)
        {
            int have = donorDepth.GetValueOrDefault(s + 1);
            if (candidate.Depths[s] > have)
                throw new GenotypeException($"--transfer-from {donorPath}: candidate stage {s + 1} has {candidate.Depths[s]} blocks, the donor has {have}; use a deeper donor");
        }
        var result = new Dictionary<string, Tensor>();
        foreach ((string name, Tensor t) in donor.Tensors)
        {
            if (name.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue;
            Match m = BlockName().Match(name);
            if (m.Success)
            {
                int stage = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), block = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
                if (stage > candidate.Depths.Count || block >= candidate.Depths[stage - 1]) continue;
            }
            result[name] = t;
        }
        return result;
    }
}
