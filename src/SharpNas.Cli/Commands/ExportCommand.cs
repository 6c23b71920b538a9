using System.CommandLine;
using SharpNas.Search.Export;

namespace SharpNas.Cli.Commands;

/// <summary><c>sharpnas export RUN_DIR --onnx [--out model.onnx]</c>: writes a trained run's network as ONNX.</summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "a finished train run folder (arch.json + model.safetensors)" };
        var onnx = new Option<bool>("--onnx") { Description = "write ONNX (opset 13); the only format so far" };
        var outFile = new Option<string?>("--out") { Description = "the file to write (default RUN_DIR/model.onnx)" };
        var cmd = new Command("export", "export a trained network to ONNX") { runDir, onnx, outFile };
        cmd.SetAction(p => CommandRunner.Run(_ =>
        {
            if (!p.GetValue(onnx)) throw new ArgumentException("export: give the format, --onnx (the only one so far)");
            string path = OnnxExport.ExportRunFolder(p.GetValue(runDir)!, p.GetValue(outFile));
            Console.WriteLine($"wrote {path}");
            return ExitCodes.Ok;
        }));
        return cmd;
    }
}
