using Google.Protobuf;

namespace SharpNas.Search.Export;

/// <summary>
/// One protobuf message being written, field by field, with Google.Protobuf's <see cref="CodedOutputStream"/>.
/// ONNX files are protobuf messages of <c>onnx.proto</c>; SharpNas writes the few messages and fields it needs
/// by hand (their numbers are listed in <see cref="Onnx"/>) instead of generating classes from the schema, which
/// is not available offline here. Nested messages are written to their own buffer and then as length-delimited bytes.
/// </summary>
internal sealed class OnnxMessage
{
    private readonly MemoryStream _buffer = new();
    private readonly CodedOutputStream _out;

    public OnnxMessage() => _out = new CodedOutputStream(_buffer, leaveOpen: true);

    public OnnxMessage Int64(int field, long value)
    {
        _out.WriteTag(field, WireFormat.WireType.Varint);
        _out.WriteInt64(value);
        return this;
    }

    public OnnxMessage Float(int field, float value)
    {
        _out.WriteTag(field, WireFormat.WireType.Fixed32);
        _out.WriteFloat(value);
        return this;
    }

    public OnnxMessage String(int field, string value)
    {
        _out.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _out.WriteString(value);
        return this;
    }

    public OnnxMessage Bytes(int field, byte[] value)
    {
        _out.WriteTag(field, WireFormat.WireType.LengthDelimited);
        _out.WriteBytes(ByteString.CopyFrom(value));
        return this;
    }

    public OnnxMessage Message(int field, OnnxMessage value) => Bytes(field, value.ToArray());

    public byte[] ToArray()
    {
        _out.Flush();
        return _buffer.ToArray();
    }
}

/// <summary>Field numbers and enum values of <c>onnx.proto</c> (ONNX IR) used by the exporter.</summary>
internal static class Onnx
{
    public const long IrVersion = 7;     // IR version of opset 13 (ONNX 1.8)
    public const long Opset = 13;

    // ModelProto
    public const int ModelIrVersion = 1, ModelProducerName = 2, ModelProducerVersion = 3, ModelDocString = 6, ModelGraph = 7, ModelOpsetImport = 8;
    // OperatorSetIdProto
    public const int OpsetDomain = 1, OpsetVersion = 2;
    // GraphProto
    public const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    // NodeProto
    public const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    // AttributeProto and its AttributeType values
    public const int AttrName = 1, AttrF = 2, AttrI = 3, AttrInts = 8, AttrType = 20;
    public const long AttrTypeFloat = 1, AttrTypeInt = 2, AttrTypeInts = 7;
    // TensorProto and its DataType values
    public const int TensorDims = 1, TensorDataType = 2, TensorName = 8, TensorRawData = 9;
    public const long DataTypeFloat = 1, DataTypeInt64 = 7;
    // ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
    public const int ValueInfoName = 1, ValueInfoType = 2;
    public const int TypeTensorType = 1;
    public const int TensorTypeElemType = 1, TensorTypeShape = 2;
    public const int ShapeDim = 1;
    public const int DimValue = 1, DimParam = 2;
}
