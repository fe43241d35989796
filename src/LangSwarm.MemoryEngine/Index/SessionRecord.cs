using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The value of a session in the index file (key space S) and of its message entries (space M). FORMAT.md §11.
/// </summary>
internal static class SessionRecord
{
    private const byte Version = 1;
    private const byte ColdFlag = 1;

    /// <summary>Longest segment a session record may name (the option allows 1 GiB segments, plus one record).</summary>
    public const long MaxSegmentLength = (1L << 30) + RecordHeader.Size + RecordHeader.MaxPayload;

    /// <summary>Bytes of a message entry value.</summary>
    public const int MessageSize = 32;

    /// <summary>
    /// version u8, last LSN u64, dead bytes i64, last state length i32, flags u8, messages i32, summaries i32, segments
    /// (count i32, then segment u32 + length i64 each), state (the session-state payload).
    /// </summary>
    public static void Write(IBufferWriter<byte> output, SessionEntry e, int messages, int summaries)
    {
        var w = new PayloadWriter(output);
        w.WriteByte(Version);
        w.WriteInt64((long)e.LastLsn);
        w.WriteInt64(e.DeadBytes);
        w.WriteInt32(e.LastStateLength);
        w.WriteByte(e.Cold ? ColdFlag : (byte)0);
        w.WriteInt32(messages);
        w.WriteInt32(summaries);
        w.WriteInt32(e.Segments.Count);
        foreach (var s in e.Segments)
        {
            w.WriteInt32((int)s.Segment);
            w.WriteInt64(s.Length);
        }
        StateCodec.Write(output, e.State);
    }

    /// <summary>Reads a session record into an entry whose content loads from <paramref name="source"/>.</summary>
    public static SessionEntry Read(ulong number, ReadOnlySpan<byte> value, ISessionContentSource source, out int messages, out int summaries)
    {
        var r = new PayloadReader(value);
        if (r.ReadByte() != Version)
        {
            throw new InvalidDataException($"Index session record {number} has an unknown version.");
        }
        var lastLsn = (ulong)r.ReadInt64();
        var dead = r.ReadInt64();
        var lastState = r.ReadInt32();
        if (dead < 0 || lastState < 0)
        {
            throw new InvalidDataException($"Index session record {number} has negative byte counts.");
        }
        var flags = r.ReadByte();
        messages = r.ReadInt32();
        summaries = r.ReadInt32();
        if (messages < 0 || summaries < 0)
        {
            throw new InvalidDataException($"Index session record {number} counts {messages} messages and {summaries} summaries.");
        }
        var count = r.ReadInt32();
        if (count < 1 || count > r.Remaining / 12)
        {
            throw new InvalidDataException($"Index session record {number} lists {count} segments.");
        }
        var segments = new SegmentExtent[count];
        for (var i = 0; i < count; i++)
        {
            segments[i] = new SegmentExtent((uint)r.ReadInt32(), r.ReadInt64());
            if (segments[i].Length < FileHeader.Size || segments[i].Length > MaxSegmentLength)
            {
                throw new InvalidDataException($"Index segment extent of {segments[i].Length} bytes is out of range.");
            }
        }
        var state = StateCodec.Read(value[^r.Remaining..]);
        var e = new SessionEntry(number, state, source) { LastLsn = lastLsn, DeadBytes = dead, LastStateLength = lastState, Cold = (flags & ColdFlag) != 0 };
        e.Segments.AddRange(segments);
        return e;
    }

    public static byte[] EncodeMessage(in MessageEntry m)
    {
        var v = new byte[MessageSize];
        BinaryPrimitives.WriteInt64LittleEndian(v, m.TimeTicks);
        BinaryPrimitives.WriteInt64LittleEndian(v.AsSpan(8), m.Offset);
        BinaryPrimitives.WriteInt32LittleEndian(v.AsSpan(16), m.Length);
        BinaryPrimitives.WriteInt32LittleEndian(v.AsSpan(20), m.Tokens);
        BinaryPrimitives.WriteUInt32LittleEndian(v.AsSpan(24), m.Segment);
        v[28] = m.Role;
        v[29] = m.Flags;
        return v;
    }

    public static MessageEntry DecodeMessage(long sequence, ReadOnlySpan<byte> v)
    {
        if (v.Length != MessageSize)
        {
            throw new InvalidDataException($"Index message entry {sequence} is {v.Length} bytes.");
        }
        var m = new MessageEntry(
            sequence,
            BinaryPrimitives.ReadInt64LittleEndian(v),
            BinaryPrimitives.ReadInt64LittleEndian(v[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(v[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(v[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(v[24..]),
            v[28],
            v[29],
            0);
        // The reads trust these to address a record inside a segment.
        if (m.Offset < FileHeader.Size || m.Length < RecordHeader.Size || m.Length > RecordHeader.Size + RecordHeader.MaxPayload
            || !PayloadReader.IsValidTicks(m.TimeTicks))
        {
            throw new InvalidDataException($"Index message entry {sequence} is out of range.");
        }
        return m;
    }
}
