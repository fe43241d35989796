using BenchmarkDotNet.Attributes;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Bench.Micro;

/// <summary>CRC-32C over a record-sized buffer.</summary>
[MemoryDiagnoser]
public class Crc32CBenchmarks
{
    private byte[] _data = [];

    /// <summary>Bytes checksummed.</summary>
    [Params(264, 1088, 4160)]
    public int Size { get; set; }

    /// <summary>Fills the buffer.</summary>
    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(DataGenerator.Seed).NextBytes(_data);
    }

    /// <summary>The engine's CRC-32C.</summary>
    [Benchmark]
    public uint Crc32C() => Format.Crc32C.Compute(_data);
}
