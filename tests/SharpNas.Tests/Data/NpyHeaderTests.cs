using System.Buffers.Binary;
using SharpNas.Data;

namespace SharpNas.Tests.Data;

public sealed class NpyHeaderTests
{
    [Theory]
    [InlineData("{'descr': '|u1', 'fortran_order': False, 'shape': (60000, 28, 28), }", "|u1", false, new long[] { 60000, 28, 28 })]
    [InlineData("{'descr':'<i8','fortran_order':False,'shape':(10,)}", "<i8", false, new long[] { 10 })]
    [InlineData("{'shape': (3, 4), 'fortran_order': True, 'descr': '>i4'}", ">i4", true, new long[] { 3, 4 })]
    [InlineData("{\"descr\": \"<u2\", \"fortran_order\": False, \"shape\": (5L, 2L), }", "<u2", false, new long[] { 5, 2 })]
    [InlineData("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", "<f8", false, new long[0])]
    public void ParseHeader_ReadsDescrOrderAndShape(string dict, string descr, bool fortran, long[] shape)
    {
        byte[] file = SyntheticFiles.Npy(dict, []);
        NpyHeader header = NpyReader.ParseHeader(file, "x.npy");
        Assert.Equal(descr, header.Descr);
        Assert.Equal(fortran, header.FortranOrder);
        Assert.Equal(shape, header.Shape);
        Assert.Equal(file.Length, header.DataOffset);
        Assert.Equal(0, header.DataOffset % 64);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void ParseHeader_Version2And3_Use4ByteHeaderLength(int major)
    {
        byte[] file = SyntheticFiles.Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", [1, 0, 0, 0, 2, 0, 0, 0], major);
        NpyHeader header = NpyReader.ParseHeader(file, "x.npy");
        Assert.Equal(file.Length - 8, header.DataOffset);
        Assert.Equal([2L], header.Shape);
    }

    [Fact]
    public void ParseHeader_BadMagic_And_UnknownVersion_AreErrors()
    {
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ParseHeader("PK\x03\x04 not numpy"u8.ToArray(), "labels.npy"));
        Assert.Contains("labels.npy", e.Message);
        Assert.Contains("NUMPY", e.Message);

        byte[] file = SyntheticFiles.Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (0,), }", []);
        file[6] = 9;
        e = Assert.Throws<DataFormatException>(() => NpyReader.ParseHeader(file, "labels.npy"));
        Assert.Contains("version 9.0", e.Message);
    }

    [Fact]
    public void ParseHeader_HeaderLongerThanFile_IsTruncationError()
    {
        byte[] file = SyntheticFiles.Npy("{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", []);
        BinaryPrimitives.WriteUInt16LittleEndian(file.AsSpan(8), 1000);
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ParseHeader(file, "labels.npy"));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void ParseHeader_StructuredDtype_IsAnErrorNamingDescr()
    {
        byte[] file = SyntheticFiles.Npy("{'descr': [('a', '<i4')], 'fortran_order': False, 'shape': (2,), }", []);
        var e = Assert.Throws<DataFormatException>(() => NpyReader.ParseHeader(file, "labels.npy"));
        Assert.Contains("'descr'", e.Message);
    }

    [Theory]
    [InlineData("|i1", new byte[] { 3, 0xFF }, 3, -1)]
    [InlineData("|u1", new byte[] { 3, 200 }, 3, 200)]
    [InlineData("<i2", new byte[] { 3, 0, 0, 1 }, 3, 256)]
    [InlineData(">u2", new byte[] { 0, 3, 1, 0 }, 3, 256)]
    [InlineData("<i4", new byte[] { 7, 0, 0, 0, 9, 0, 0, 0 }, 7, 9)]
    [InlineData(">i4", new byte[] { 0, 0, 0, 7, 0, 0, 0, 9 }, 7, 9)]
    [InlineData("<u4", new byte[] { 7, 0, 0, 0, 9, 0, 0, 0 }, 7, 9)]
    [InlineData("<i8", new byte[] { 7, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0 }, 7, 9)]
    [InlineData(">u8", new byte[] { 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 9 }, 7, 9)]
    public void ReadLabels_AnyIntegerDtype(string descr, byte[] data, int first, int second)
    {
        using var folder = new TestFolder();
        string path = folder.Write("labels.npy", SyntheticFiles.Npy($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,), }}", data));
        if (second < 0)
        {
            var e = Assert.Throws<DataFormatException>(() => NpyReader.ReadLabels(path));
            Assert.Contains("label -1 at index 1", e.Message);
            return;
        }
        Assert.Equal([first, second], NpyReader.ReadLabels(path));
    }
}
