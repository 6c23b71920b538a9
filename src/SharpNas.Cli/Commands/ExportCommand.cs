using System.CommandLine;
using SharpNas.Search.Export;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas export RUN_DIR | --arch A --weights W  --onnx [FILE]</c>: writes a trained network as ONNX.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string?>("RUN_DIR")
        {
            Description = "a finished run folder (arch.json + model.safetensors; for a search, one of RUN/trials/<key>/)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var arch = new Option<string?>("--arch") { Description = "architecture JSON (instead of RUN_DIR; with --weights)" };
        var weights = new Option<string?>("--weights") { Description = "weights (safetensors) of --arch" };
        var onnx = new Option<string?>("--onnx")
        {
            Description = "write ONNX (opset 13) to FILE (default RUN_DIR/model.onnx, or the weights' name with .onnx)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var outFile = new Option<string?>("--out") { Description = "the file to write (same as --onnx FILE)" };
        var cmd = new Command("export", "export a trained network to ONNX (takes [0, 1] pixels, normalises inside, dynamic batch)")
        {
            runDir, arch, weights, onnx, outFile,
        };
        cmd.SetAction(p => CommandRunner.Run(_ =>
        {
            if (p.GetResult(onnx) is null) throw new ArgumentException("export: give the format, --onnx [FILE] (the only one so far)");
            string? dir = p.GetValue(runDir), archPath = p.GetValue(arch), weightsPath = p.GetValue(weights);
            string? file = p.GetValue(onnx) ?? p.GetValue(outFile);
            if (dir is not null == (archPath is not null || weightsPath is not null))
                throw new ArgumentException("export: give either RUN_DIR or --arch A --weights W");
            if (dir is null && (archPath is null || weightsPath is null))
                throw new ArgumentException("export: --arch and --weights go together");
            OnnxExportResult result;
            try
            {
                result = dir is not null ? OnnxExport.ExportRunFolder(dir, file)
                    : OnnxExport.ExportFiles(archPath!, weightsPath!, file ?? Path.ChangeExtension(weightsPath!, ".onnx"));
            }
            catch (NotSupportedException e)
            {
                throw new ArgumentException(e.Message, e);   // an unsupported module: bad input for export
            }
            foreach (string note in result.Notes) Console.Error.WriteLine("note: " + note);
            Console.WriteLine($"wrote {result.Path} (input float32 [batch, {result.Input.Channels}, {result.Input.Height}, {result.Input.Width}]" +
                (result.Normalization is null ? ", not normalised inside" : ", pixels in [0, 1], normalised inside") + $"; output logits [batch, {result.Input.NumClasses}])");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
