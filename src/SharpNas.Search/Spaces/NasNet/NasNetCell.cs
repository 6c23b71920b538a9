using System.Text.Json.Nodes;
using SharpNas.Search.Genotypes;

namespace SharpNas.Search.Spaces.NasNet;

/// <summary>
/// One block of a NASNet cell: two hidden states it reads, the op applied to each, and how the two results are joined.
/// States are numbered 0 = h0 (the cell's current input), 1 = h1 (the input before), 2 + b = the output of block b.
/// </summary>
public sealed record NasNetBlock(int Input1, int Input2, NasNetOp Op1, NasNetOp Op2, NasNetCombine Combine = NasNetCombine.Add)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{NasNetOpNames.Name(Op1)}({Input1}) {(Combine == NasNetCombine.Add ? "+" : "‖")} {NasNetOpNames.Name(Op2)}({Input2})";
}

/// <summary>
/// A NASNet cell (normal or reduction): B blocks, each reading two earlier hidden states. The cell's output is the
/// channel concatenation of its output states: by default every state no block reads (the paper's rule), or an
/// explicit list (<see cref="ExplicitOutput"/>), which NASNet-A needs because its published cells also concatenate some
/// used states. Immutable and validated on construction: a bad cell throws <see cref="GenotypeException"/> naming the
/// block and the field.
/// </summary>
public sealed class NasNetCell : IEquatable<NasNetCell>
{
    /// <summary>The paper's number of blocks per cell.</summary>
    public const int DefaultBlocks = 5;
    /// <summary>Fewest blocks a cell may have.</summary>
    public const int MinBlocks = 1;
    /// <summary>Most blocks a cell may have.</summary>
    public const int MaxBlocks = 10;
    /// <summary>Decisions per block: input 1, input 2, op 1, op 2, combine.</summary>
    public const int DecisionsPerBlock = 5;

    private readonly int[] _outputs;
    private readonly bool[] _used;

    /// <summary>The blocks, in order.</summary>
    public IReadOnlyList<NasNetBlock> Blocks { get; }

    /// <summary>The output states given explicitly, or null when the output is every unused state.</summary>
    public IReadOnlyList<int>? ExplicitOutput { get; }

    /// <summary>Creates and validates a cell; <paramref name="where"/> names it in errors (e.g. <c>arch.json: normal</c>).</summary>
    public NasNetCell(IReadOnlyList<NasNetBlock> blocks, IReadOnlyList<int>? output = null, string where = "cell")
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count is < MinBlocks or > MaxBlocks)
            throw new GenotypeException($"{where}: field \"blocks\" must hold {MinBlocks} to {MaxBlocks} blocks (B), found {blocks.Count}");
        _used = new bool[2 + blocks.Count];
        for (int b = 0; b < blocks.Count; b++)
        {
            NasNetBlock block = blocks[b] ?? throw new GenotypeException($"{where}.blocks[{b}]: the block is missing");
            CheckInput(block.Input1, b, "input1", where);
            CheckInput(block.Input2, b, "input2", where);
            CheckOp(block.Op1, b, "op1", where);
            CheckOp(block.Op2, b, "op2", where);
            if (!Enum.IsDefined(block.Combine))
                throw new GenotypeException($"{where}.blocks[{b}].combine: unknown combine {(int)block.Combine}; expected add or concat");
            _used[block.Input1] = _used[block.Input2] = true;
        }
        Blocks = blocks.ToArray();
        if (output is null)
        {
            _outputs = Enumerable.Range(0, StateCount).Where(s => !_used[s]).ToArray();
        }
        else
        {
            _outputs = output.ToArray();
            if (_outputs.Length == 0) throw new GenotypeException($"{where}.output: the cell must output at least one state");
            var seen = new HashSet<int>();
            foreach (int s in _outputs)
            {
                if (s < 0 || s >= StateCount)
                    throw new GenotypeException($"{where}.output: state {s} does not exist; the cell has states 0..{StateCount - 1} (h0, h1, blocks 0..{blocks.Count - 1})");
                if (!seen.Add(s)) throw new GenotypeException($"{where}.output: state {s} is listed twice");
            }
            for (int s = 0; s < StateCount; s++)
                if (!_used[s] && !seen.Contains(s))
                    throw new GenotypeException($"{where}.output: state {s} ({StateName(s)}) is read by no block, so it must be an output, else its ops are dead");
            ExplicitOutput = _outputs;
        }
    }

    private static void CheckInput(int input, int block, string field, string where)
    {
        if (input < 0 || input >= 2 + block)
            throw new GenotypeException($"{where}.blocks[{block}].{field} = {input} refers to a state that does not exist " +
                $"{(input < 0 ? "" : "yet")}: block {block} can read states 0..{block + 1} (h0, h1{(block > 0 ? $", blocks 0..{block - 1}" : "")})");
    }

    private static void CheckOp(NasNetOp op, int block, string field, string where)
    {
        if (!Enum.IsDefined(op))
            throw new GenotypeException($"{where}.blocks[{block}].{field}: unknown op {(int)op}; expected 0..{NasNetOpNames.OpCount - 1} ({string.Join(", ", NasNetOpNames.All)})");
    }

    /// <summary>Number of hidden states: h0, h1 and one per block.</summary>
    public int StateCount => 2 + Blocks.Count;

    /// <summary>The states concatenated as the cell's output, in order.</summary>
    public IReadOnlyList<int> OutputStates => _outputs;

    /// <summary>Whether some block reads <paramref name="state"/>.</summary>
    public bool IsRead(int state) => _used[state];

    /// <summary>"h0", "h1" or "block b".</summary>
    public static string StateName(int state) => state switch { 0 => "h0", 1 => "h1", _ => $"block {state - 2}" };

    // ---- the flat decision form searched by the controller, random search and evolution ----

    /// <summary>Number of choices of each decision of a cell of <paramref name="blocks"/> blocks, in decision order
    /// (per block: input 1, input 2, op 1, op 2, combine). Block b's inputs have 2 + b choices.</summary>
    public static int[] DecisionChoices(int blocks = DefaultBlocks)
    {
        if (blocks is < MinBlocks or > MaxBlocks)
            throw new GenotypeException($"cell: B must be in {MinBlocks}..{MaxBlocks}, found {blocks}");
        var choices = new int[DecisionsPerBlock * blocks];
        for (int b = 0; b < blocks; b++)
        {
            choices[5 * b] = choices[5 * b + 1] = 2 + b;
            choices[5 * b + 2] = choices[5 * b + 3] = NasNetOpNames.OpCount;
            choices[5 * b + 4] = NasNetOpNames.CombineCount;
        }
        return choices;
    }

    /// <summary>The cell as 5B decisions (per block: input 1, input 2, op 1, op 2, combine; ops and combine by enum
    /// value). An <see cref="ExplicitOutput"/> is not part of the decision space and is not kept.</summary>
    public int[] ToDecisions()
    {
        var d = new int[DecisionsPerBlock * Blocks.Count];
        for (int b = 0; b < Blocks.Count; b++)
        {
            NasNetBlock k = Blocks[b];
            (d[5 * b], d[5 * b + 1], d[5 * b + 2], d[5 * b + 3], d[5 * b + 4]) = (k.Input1, k.Input2, (int)k.Op1, (int)k.Op2, (int)k.Combine);
        }
        return d;
    }

    /// <summary>The cell described by 5B decisions (output = unused states); a decision out of range throws naming it.</summary>
    public static NasNetCell FromDecisions(ReadOnlySpan<int> decisions, string where = "cell")
    {
        if (decisions.Length == 0 || decisions.Length % DecisionsPerBlock != 0)
            throw new GenotypeException($"{where}: a cell needs 5 decisions per block, found {decisions.Length}");
        int blocks = decisions.Length / DecisionsPerBlock;
        int[] choices = DecisionChoices(blocks);
        string[] fields = ["input1", "input2", "op1", "op2", "combine"];
        for (int i = 0; i < decisions.Length; i++)
            if (decisions[i] < 0 || decisions[i] >= choices[i])
                throw new GenotypeException($"{where}.blocks[{i / 5}].{fields[i % 5]}: decision {i} = {decisions[i]} is out of range 0..{choices[i] - 1}");
        var list = new NasNetBlock[blocks];
        for (int b = 0; b < blocks; b++)
            list[b] = new NasNetBlock(decisions[5 * b], decisions[5 * b + 1], (NasNetOp)decisions[5 * b + 2], (NasNetOp)decisions[5 * b + 3],
                (NasNetCombine)decisions[5 * b + 4]);
        return new NasNetCell(list, null, where);
    }

    // ---- NASNet-A ----

    /// <summary>NASNet-A's normal cell (the authors' released cell): b0 = sep5x5(h0) + sep3x3(h1);
    /// b1 = sep5x5(h1) + sep3x3(h1); b2 = avg3x3(h0) + id(h1); b3 = avg3x3(h1) + avg3x3(h1); b4 = sep3x3(h0) + id(h0);
    /// output concat[h1, b0, b1, b2, b3, b4] (6F channels).</summary>
    public static NasNetCell NasNetANormal { get; } = new(
    [
        new(0, 1, NasNetOp.SepConv5x5, NasNetOp.SepConv3x3),
        new(1, 1, NasNetOp.SepConv5x5, NasNetOp.SepConv3x3),
        new(0, 1, NasNetOp.AvgPool3x3, NasNetOp.Identity),
        new(1, 1, NasNetOp.AvgPool3x3, NasNetOp.AvgPool3x3),
        new(0, 0, NasNetOp.SepConv3x3, NasNetOp.Identity),
    ], [1, 2, 3, 4, 5, 6], "NASNet-A normal");

    /// <summary>NASNet-A's reduction cell: b0 = sep5x5(h0) + sep7x7(h1); b1 = max3x3(h0) + sep7x7(h1);
    /// b2 = avg3x3(h0) + sep5x5(h1); b3 = id(b1) + avg3x3(b0); b4 = sep3x3(b0) + max3x3(h0); output concat[b1, b2, b3, b4]
    /// (4F channels). Ops reading h0/h1 have stride 2.</summary>
    public static NasNetCell NasNetAReduction { get; } = new(
    [
        new(0, 1, NasNetOp.SepConv5x5, NasNetOp.SepConv7x7),
        new(0, 1, NasNetOp.MaxPool3x3, NasNetOp.SepConv7x7),
        new(0, 1, NasNetOp.AvgPool3x3, NasNetOp.SepConv5x5),
        new(3, 2, NasNetOp.Identity, NasNetOp.AvgPool3x3),
        new(2, 0, NasNetOp.SepConv3x3, NasNetOp.MaxPool3x3),
    ], [3, 4, 5, 6], "NASNet-A reduction");

    // ---- JSON ----

    /// <summary>The JSON form: <c>{"blocks": [{"input1": 0, "input2": 1, "op1": "sep_conv_5x5", "op2": "sep_conv_3x3",
    /// "combine": "add"}, …], "output": [1, 2, …]}</c>; <c>output</c> only when explicit.</summary>
    public JsonObject ToJson()
    {
        var blocks = new JsonArray();
        foreach (NasNetBlock b in Blocks)
            blocks.Add(new JsonObject
            {
                ["input1"] = b.Input1,
                ["input2"] = b.Input2,
                ["op1"] = NasNetOpNames.Name(b.Op1),
                ["op2"] = NasNetOpNames.Name(b.Op2),
                ["combine"] = NasNetOpNames.Name(b.Combine),
            });
        var o = new JsonObject { ["blocks"] = blocks };
        if (ExplicitOutput is not null)
        {
            var output = new JsonArray();
            foreach (int s in ExplicitOutput) output.Add(s);
            o["output"] = output;
        }
        return o;
    }

    /// <summary>Reads the JSON form; <paramref name="where"/> (e.g. <c>arch.json: normal</c>) prefixes every error,
    /// which names the block and the field.</summary>
    public static NasNetCell FromJson(JsonNode? node, string where)
    {
        if (node is not JsonObject o) throw new GenotypeException($"{where}: must be an object with a \"blocks\" array");
        if (o["blocks"] is not JsonArray arr) throw new GenotypeException($"{where}: field \"blocks\" is missing or not an array");
        var blocks = new NasNetBlock[arr.Count];
        for (int b = 0; b < arr.Count; b++)
        {
            string at = $"{where}.blocks[{b}]";
            if (arr[b] is not JsonObject bo) throw new GenotypeException($"{at}: must be an object with input1, input2, op1, op2, combine");
            int input1 = Int(bo, "input1", at), input2 = Int(bo, "input2", at);
            NasNetOp op1 = Op(bo, "op1", at), op2 = Op(bo, "op2", at);
            string combineName = Text(bo, "combine", at);
            if (!NasNetOpNames.TryParseCombine(combineName, out NasNetCombine combine))
                throw new GenotypeException($"{at}.combine: unknown combine \"{combineName}\"; expected add or concat");
            blocks[b] = new NasNetBlock(input1, input2, op1, op2, combine);
        }
        int[]? output = null;
        if (o["output"] is JsonNode on)
        {
            if (on is not JsonArray oa) throw new GenotypeException($"{where}.output: must be an array of state numbers");
            output = oa.Select((s, i) => s is null ? throw new GenotypeException($"{where}.output[{i}]: must be an integer")
                : ArchitectureJson.IntField(s, "output[" + i + "]", where)).ToArray();
        }
        return new NasNetCell(blocks, output, where);
    }

    private static int Int(JsonObject o, string field, string at) =>
        o[field] is JsonNode n ? ArchitectureJson.IntField(n, field, at) : throw new GenotypeException($"{at}.{field}: field is missing");

    private static string Text(JsonObject o, string field, string at)
    {
        if (o[field] is not JsonValue v || !v.TryGetValue(out string? s))
            throw new GenotypeException($"{at}.{field}: field is missing or not a string");
        return s;
    }

    private static NasNetOp Op(JsonObject o, string field, string at)
    {
        string name = Text(o, field, at);
        return NasNetOpNames.TryParseOp(name, out NasNetOp op) ? op
            : throw new GenotypeException($"{at}.{field}: unknown op \"{name}\"; expected one of {string.Join(", ", NasNetOpNames.All)}");
    }

    // ---- equality and text ----

    /// <inheritdoc/>
    public bool Equals(NasNetCell? other) =>
        other is not null && Blocks.SequenceEqual(other.Blocks) && _outputs.AsSpan().SequenceEqual(other._outputs)
        && (ExplicitOutput is null) == (other.ExplicitOutput is null);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as NasNetCell);

    /// <inheritdoc/>
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (NasNetBlock b in Blocks) h.Add(b);
        foreach (int s in _outputs) h.Add(s);
        return h.ToHashCode();
    }

    /// <summary>One line: the blocks, then the output states.</summary>
    public override string ToString() =>
        $"[{string.Join("; ", Blocks)}] → concat({string.Join(", ", _outputs)})";
}
