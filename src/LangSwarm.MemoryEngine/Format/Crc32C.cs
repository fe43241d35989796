using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// CRC-32C (Castagnoli), the checksum of every record, segment header and checkpoint. Computed with the CPU's
/// CRC32 instruction through <see cref="BitOperations.Crc32C(uint, ulong)"/> (SSE4.2 / ARMv8), eight bytes a step.
/// </summary>
internal static class Crc32C
{
    /// <summary>The CRC-32C of <paramref name="data"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>The CRC-32C of two spans, as if concatenated.</summary>
    public static uint Compute(ReadOnlySpan<byte> first, ReadOnlySpan<byte> second) => ~Update(Update(~0u, first), second);

    // Optimized from its first call: an open after a crash checksums every record it replays before tiered
    // compilation has had time to promote the loop, and its unoptimized form calls out for each CRC32 step.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }
        return crc;
    }
}
