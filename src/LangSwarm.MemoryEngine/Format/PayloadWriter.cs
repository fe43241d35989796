using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>Writes the length-prefixed fields of a payload: varint lengths, UTF-8 strings, fixed integers.</summary>
internal ref struct PayloadWriter
{
    private readonly IBufferWriter<byte> _out;

    /// <summary>Writes into <paramref name="output"/>.</summary>
    public PayloadWriter(IBufferWriter<byte> output)
    {
        _out = output;
    }

    /// <summary>An unsigned LEB128 varint.</summary>
    public readonly void WriteVarint(ulong value)
    {
        var span = _out.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _out.Advance(i);
    }

    /// <summary>A string: varint (byte length + 1), 0 for null, then UTF-8 bytes.</summary>
    public readonly void WriteString(string? value)
    {
        if (value is null)
        {
            WriteVarint(0);
            return;
        }
        if (value.Length > OnePassChars)
        {
            var len = Encoding.UTF8.GetByteCount(value);
            WriteVarint((ulong)len + 1);
            var span = _out.GetSpan(len);
            var written = Encoding.UTF8.GetBytes(value, span);
            _out.Advance(written);
            return;
        }
        // One pass over the text instead of counting then encoding: the bytes go right after a prefix sized
        // for as many bytes as chars (exact for ASCII); a longer encoding whose length needs a longer varint
        // is moved up by the difference.
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        var dest = _out.GetSpan(Varint.Size((ulong)maxBytes + 1) + maxBytes);
        var guess = Varint.Size((ulong)value.Length + 1);
        var n = Encoding.UTF8.GetBytes(value, dest[guess..]);
        var prefix = Varint.Size((ulong)n + 1);
        if (prefix != guess)
        {
            dest.Slice(guess, n).CopyTo(dest[prefix..]);
        }
        Varint.Write(dest, (ulong)n + 1);
        _out.Advance(prefix + n);
    }

    /// <summary>
    /// Longest string encoded in one pass: its worst-case UTF-8 size (3 bytes a char) is reserved in the
    /// output first, which for a long string would grow the buffer far past what it needs.
    /// </summary>
    private const int OnePassChars = 16 * 1024;

    /// <summary>
    /// A JSON field: the node's compact UTF-8 JSON as a string (null for null), nested at most
    /// <see cref="LangSwarm.Memory.MemoryLimits.MaxJsonReadDepth"/> levels, so <see cref="PayloadReader"/> reads it back.
    /// </summary>
    /// <exception cref="ArgumentException">The node cannot be written as JSON; nothing is written then.</exception>
    public readonly void WriteJson(JsonNode? node) => JsonPayload.Write(_out, node);

    /// <summary>Raw bytes with a varint length.</summary>
    public readonly void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarint((ulong)value.Length);
        value.CopyTo(_out.GetSpan(value.Length));
        _out.Advance(value.Length);
    }

    /// <summary>A little-endian 64-bit integer.</summary>
    public readonly void WriteInt64(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_out.GetSpan(8), value);
        _out.Advance(8);
    }

    /// <summary>A little-endian 32-bit integer.</summary>
    public readonly void WriteInt32(int value)
    {
        BinaryPrimitives.WriteInt32LittleEndian(_out.GetSpan(4), value);
        _out.Advance(4);
    }

    /// <summary>One byte.</summary>
    public readonly void WriteByte(byte value)
    {
        _out.GetSpan(1)[0] = value;
        _out.Advance(1);
    }
}

/// <summary>Reads what <see cref="PayloadWriter"/> wrote; every length is bounded by the bytes left.</summary>
internal ref struct PayloadReader
{
    private ReadOnlySpan<byte> _data;

    /// <summary>Reads <paramref name="data"/>.</summary>
    public PayloadReader(ReadOnlySpan<byte> data)
    {
        _data = data;
    }

    /// <summary>Bytes not read yet.</summary>
    public readonly int Remaining => _data.Length;

    /// <summary>An unsigned LEB128 varint (at most 10 bytes; a tenth byte holds bit 63 only).</summary>
    public ulong ReadVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_data.IsEmpty)
            {
                throw new InvalidDataException("Payload ends inside a varint.");
            }
            var b = _data[0];
            _data = _data[1..];
            if (shift == 63 && b > 1)
            {
                // The tenth byte holds bit 63 only (FORMAT.md §2.1): anything more is not a 64-bit value.
                throw new InvalidDataException("Varint past 64 bits: its tenth byte holds more than bit 63.");
            }
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return result;
            }
        }
        throw new InvalidDataException("Varint longer than 10 bytes.");
    }

    /// <summary>A string written by <see cref="PayloadWriter.WriteString"/>.</summary>
    public string? ReadString()
    {
        var n = ReadVarint();
        if (n == 0)
        {
            return null;
        }
        var len = Bounded(n - 1);
        var s = Encoding.UTF8.GetString(_data[..len]);
        _data = _data[len..];
        return s;
    }

    /// <summary>Skips a string written by <see cref="PayloadWriter.WriteString"/> without decoding it.</summary>
    public void SkipString()
    {
        var n = ReadVarint();
        if (n != 0)
        {
            _data = _data[Bounded(n - 1)..];
        }
    }

    /// <summary>A JSON object written as a string; null for a null string or the JSON literal null.</summary>
    /// <exception cref="InvalidDataException">The string is not JSON, or not an object.</exception>
    public JsonObject? ReadJsonObject() => ReadJson() switch
    {
        null => null,
        JsonObject o => o,
        var other => throw new InvalidDataException($"Expected a JSON object, found {other.GetValueKind()}."),
    };

    /// <summary>A JSON array written as a string; null for a null string or the JSON literal null.</summary>
    /// <exception cref="InvalidDataException">The string is not JSON, or not an array.</exception>
    public JsonArray? ReadJsonArray() => ReadJson() switch
    {
        null => null,
        JsonArray a => a,
        var other => throw new InvalidDataException($"Expected a JSON array, found {other.GetValueKind()}."),
    };

    /// <summary>A UTC time written as ticks with <see cref="PayloadWriter.WriteInt64"/>.</summary>
    /// <exception cref="InvalidDataException">The ticks are outside the range of <see cref="DateTimeOffset"/>.</exception>
    public DateTimeOffset ReadUtcTicks() => UtcFromTicks(ReadInt64());

    /// <summary>A UTC time from stored ticks; out-of-range ticks are damage, not an argument error.</summary>
    /// <exception cref="InvalidDataException">The ticks are outside the range of <see cref="DateTimeOffset"/>.</exception>
    public static DateTimeOffset UtcFromTicks(long ticks) =>
        IsValidTicks(ticks) ? new DateTimeOffset(ticks, TimeSpan.Zero) : throw new InvalidDataException($"Timestamp of {ticks} ticks is out of range.");

    /// <summary>True when <paramref name="ticks"/> make a valid <see cref="DateTimeOffset"/>.</summary>
    public static bool IsValidTicks(long ticks) => ticks >= DateTimeOffset.MinValue.UtcTicks && ticks <= DateTimeOffset.MaxValue.UtcTicks;

    /// <summary>
    /// A JSON field: parsed with the writer's depth bound (<see cref="LangSwarm.Memory.MemoryLimits.MaxJsonReadDepth"/>);
    /// bytes a writer cannot produce (invalid UTF-8, an unpaired surrogate escape, a duplicate key) are damage.
    /// </summary>
    private JsonNode? ReadJson()
    {
        var n = ReadVarint();
        if (n == 0)
        {
            return null;
        }
        var len = Bounded(n - 1);
        var json = _data[..len];
        _data = _data[len..];
        return JsonPayload.Parse(json);
    }

    /// <summary>Bytes written by <see cref="PayloadWriter.WriteBytes"/>.</summary>
    public ReadOnlySpan<byte> ReadBytes()
    {
        var len = Bounded(ReadVarint());
        var s = _data[..len];
        _data = _data[len..];
        return s;
    }

    /// <summary>A little-endian 64-bit integer.</summary>
    public long ReadInt64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadInt64LittleEndian(_data);
        _data = _data[8..];
        return v;
    }

    /// <summary>A little-endian 32-bit integer.</summary>
    public int ReadInt32()
    {
        Need(4);
        var v = BinaryPrimitives.ReadInt32LittleEndian(_data);
        _data = _data[4..];
        return v;
    }

    /// <summary>One byte.</summary>
    public byte ReadByte()
    {
        Need(1);
        var v = _data[0];
        _data = _data[1..];
        return v;
    }

    private readonly int Bounded(ulong n)
    {
        if (n > (ulong)_data.Length)
        {
            throw new InvalidDataException($"Field of {n} bytes, but only {_data.Length} remain.");
        }
        return (int)n;
    }

    private readonly void Need(int n)
    {
        if (_data.Length < n)
        {
            throw new InvalidDataException($"Payload ends early: need {n} bytes, {_data.Length} remain.");
        }
    }
}
