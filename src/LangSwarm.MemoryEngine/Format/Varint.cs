namespace LangSwarm.MemoryEngine.Format;

/// <summary>Unsigned LEB128 on spans (the index file's compact fields; payloads use <see cref="PayloadWriter"/>).</summary>
internal static class Varint
{
    /// <summary>Most bytes of a 64-bit varint.</summary>
    public const int MaxLength = 10;

    /// <summary>Bytes <paramref name="value"/> takes.</summary>
    public static int Size(ulong value)
    {
        var n = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            n++;
        }
        return n;
    }

    /// <summary>Writes <paramref name="value"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, ulong value)
    {
        var n = 0;
        while (value >= 0x80)
        {
            destination[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        destination[n++] = (byte)value;
        return n;
    }

    /// <summary>Reads a varint of at most <paramref name="maxBytes"/> bytes at <paramref name="at"/>; false when it is cut off, too long or past 64 bits.</summary>
    public static bool TryRead(ReadOnlySpan<byte> source, ref int at, int maxBytes, out ulong value)
    {
        value = 0;
        for (var i = 0; i < maxBytes && at < source.Length; i++)
        {
            var b = source[at++];
            if (i == MaxLength - 1 && b > 1)
            {
                return false; // the tenth byte holds bit 63 only: anything more is not a 64-bit value
            }
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80)
            {
                return true;
            }
        }
        return false;
    }
}
