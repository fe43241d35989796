using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The value of a session in the index file (key space S) and of its message entries (space M). FORMAT.md §6.3.
/// </summary>
internal static class SessionRecord
{
    private const byte Version = 1;

    // A session with a pack group (FORMAT.md §6.3): version 1 plus the group after the segments.
    private const byte PackedVersion = 2;

    // Bit 0 of a message entry's flags: the record lies in a pack, the segment field is the pack number.
    private const byte InPackFlag = 1;
    private const byte ColdFlag = 1;

    // Version 3 (layout 5): varints and the compact state; flag bit 1 says a pack group follows the segments.
    private const byte CompactVersion = 3;
    private const byte PackFlag = 2;

    // Version 3: the state's eviction low-water mark is the default and left out of the compact state.
    private const byte DefaultLowWaterFlag = 4;

    /// <summary>Longest segment a session record may name (the option allows 1 GiB segments, plus one record).</summary>
    public const long MaxSegmentLength = (1L << 30) + RecordHeader.Size + RecordHeader.MaxPayload;

    private const int MinMessageSize = 8 + 4 + 2;
    private const int MaxMessageSize = 8 + 10 + 5 + 5 + 5 + 2;

    private static int WriteVarint(Span<byte> dest, ulong v) => Varint.Write(dest, v);

    private static ulong ReadVarint(ReadOnlySpan<byte> v, ref int at, long sequence) =>
        Varint.TryRead(v, ref at, Varint.MaxLength, out var value) ? value : throw new InvalidDataException($"Index message entry {sequence} has a broken varint.");

    /// <summary>
    /// Version 3 (FORMAT.md §6.3): version u8, flags u8 (cold, pack group, default low-water mark), then varints of the last LSN, dead
    /// bytes, last state length, messages, summaries and segments (count, then number and valid length each),
    /// the pack group when there is one (pack, offset, length, next segment), then the compact state
    /// (<see cref="CompactStateCodec"/>). Versions 1 and 2, the fixed-width records of layout 4 and before, are
    /// still read.
    /// </summary>
    public static void Write(IBufferWriter<byte> output, SessionEntry e, int messages, int summaries)
    {
        var w = new PayloadWriter(output);
        w.WriteByte(CompactVersion);
        w.WriteByte((byte)((e.Cold ? ColdFlag : 0) | (e.Pack is null ? 0 : PackFlag) | (CompactStateCodec.HasDefaultLowWater(e.State) ? DefaultLowWaterFlag : 0)));
        w.WriteVarint(e.LastLsn);
        w.WriteVarint((ulong)e.DeadBytes);
        w.WriteVarint((uint)e.LastStateLength);
        w.WriteVarint((uint)messages);
        w.WriteVarint((uint)summaries);
        w.WriteVarint((uint)e.Segments.Count);
        foreach (var s in e.Segments)
        {
            w.WriteVarint(s.Segment);
            w.WriteVarint((ulong)s.Length);
        }
        if (e.Pack is { } g)
        {
            w.WriteVarint(g.Pack);
            w.WriteVarint((ulong)g.Offset);
            w.WriteVarint((ulong)g.Length);
            w.WriteVarint(g.NextSegment);
        }
        CompactStateCodec.Write(output, e.State);
    }

    /// <summary>Writes a record of version 1 or 2 (layout 4), as earlier builds did: for tests of the files they left.</summary>
    internal static void WriteFixedWidth(IBufferWriter<byte> output, SessionEntry e, int messages, int summaries)
    {
        var w = new PayloadWriter(output);
        w.WriteByte(e.Pack is null ? Version : PackedVersion);
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
        if (e.Pack is { } g)
        {
            w.WriteInt32((int)g.Pack);
            w.WriteInt64(g.Offset);
            w.WriteInt64(g.Length);
            w.WriteInt32((int)g.NextSegment);
        }
        StateCodec.Write(output, e.State);
    }

    /// <summary>Reads a session record into an entry whose content loads from <paramref name="source"/>.</summary>
    public static SessionEntry Read(ulong number, ReadOnlySpan<byte> value, ISessionContentSource source, out int messages, out int summaries)
    {
        var r = new PayloadReader(value);
        var head = ReadHead(number, ref r);
        messages = head.Messages;
        summaries = head.Summaries;
        var rest = value[^r.Remaining..];
        var state = head.Compact ? CompactStateCodec.Read(rest, head.DefaultLowWater) : StateCodec.Read(rest);
        var e = new SessionEntry(number, state, source) { LastLsn = head.LastLsn, DeadBytes = head.DeadBytes, LastStateLength = head.LastStateLength, Cold = head.Cold, Pack = head.Pack };
        e.Segments.AddRange(head.Segments);
        return e;
    }

    /// <summary>The outline of a session record: its fixed fields and status, without decoding the metadata.</summary>
    public static SessionOutline ReadOutline(ulong number, ReadOnlySpan<byte> value)
    {
        var r = new PayloadReader(value);
        var head = ReadHead(number, ref r);
        var rest = value[^r.Remaining..];
        var (status, updated) = head.Compact ? CompactStateCodec.ReadStatus(rest) : StateCodec.ReadStatus(rest);
        return new SessionOutline(number, head.Segments, head.DeadBytes, head.Cold, status, head.Pack, updated);
    }

    private readonly record struct Head(ulong LastLsn, long DeadBytes, int LastStateLength, bool Cold, int Messages, int Summaries, SegmentExtent[] Segments, PackGroup? Pack, bool Compact = false, bool DefaultLowWater = false);

    private static Head ReadHead(ulong number, ref PayloadReader r)
    {
        var version = r.ReadByte();
        if (version == CompactVersion)
        {
            return ReadCompactHead(number, ref r);
        }
        if (version is not Version and not PackedVersion)
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
        var messages = r.ReadInt32();
        var summaries = r.ReadInt32();
        if (messages < 0 || summaries < 0)
        {
            throw new InvalidDataException($"Index session record {number} counts {messages} messages and {summaries} summaries.");
        }
        var count = r.ReadInt32();
        // A packed session may have no segment of its own.
        if (count < (version == PackedVersion ? 0 : 1) || count > r.Remaining / 12)
        {
            throw new InvalidDataException($"Index session record {number} lists {count} segments.");
        }
        var segments = new SegmentExtent[count];
        for (var i = 0; i < count; i++)
        {
            segments[i] = new SegmentExtent((uint)r.ReadInt32(), r.ReadInt64());
            if (segments[i].Length < FileHeader.Size || segments[i].Length > MaxSegmentLength || segments[i].Segment >= Log.PackFiles.PackBit)
            {
                throw new InvalidDataException($"Index segment extent of {segments[i].Length} bytes is out of range.");
            }
        }
        PackGroup? pack = null;
        if (version == PackedVersion)
        {
            var g = new PackGroup((uint)r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), (uint)r.ReadInt32());
            if (g.Pack is 0 or >= Log.PackFiles.PackBit || g.Offset < FileHeader.Size || g.Length < RecordHeader.Size || g.Length > MaxSegmentLength
                || g.NextSegment >= Log.PackFiles.PackBit || (count > 0 && segments[0].Segment < g.NextSegment))
            {
                throw new InvalidDataException($"Index session record {number} names a pack group out of range.");
            }
            pack = g;
        }
        return new Head(lastLsn, dead, lastState, (flags & ColdFlag) != 0, messages, summaries, segments, pack);
    }

    private static Head ReadCompactHead(ulong number, ref PayloadReader r)
    {
        var flags = r.ReadByte();
        if ((flags & ~(ColdFlag | PackFlag | DefaultLowWaterFlag)) != 0)
        {
            throw new InvalidDataException($"Index session record {number} has unknown flags {flags}.");
        }
        var lastLsn = r.ReadVarint();
        var dead = r.ReadVarint();
        var lastState = r.ReadVarint();
        var messages = r.ReadVarint();
        var summaries = r.ReadVarint();
        if (dead > long.MaxValue || lastState > int.MaxValue || messages > int.MaxValue || summaries > int.MaxValue)
        {
            throw new InvalidDataException($"Index session record {number} has counts out of range.");
        }
        var count = r.ReadVarint();
        var packed = (flags & PackFlag) != 0;
        // Each segment takes at least two bytes; a packed session may have none of its own.
        if ((count == 0 && !packed) || count > (ulong)r.Remaining / 2)
        {
            throw new InvalidDataException($"Index session record {number} lists {count} segments.");
        }
        var segments = new SegmentExtent[count];
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = r.ReadVarint();
            var length = r.ReadVarint();
            if (segment >= Log.PackFiles.PackBit || length < FileHeader.Size || length > MaxSegmentLength)
            {
                throw new InvalidDataException($"Index segment extent of {length} bytes is out of range.");
            }
            segments[i] = new SegmentExtent((uint)segment, (long)length);
        }
        PackGroup? pack = null;
        if (packed)
        {
            var (n, offset, length, next) = (r.ReadVarint(), r.ReadVarint(), r.ReadVarint(), r.ReadVarint());
            if (n is 0 or >= Log.PackFiles.PackBit || offset < FileHeader.Size || offset > long.MaxValue || length < RecordHeader.Size || length > MaxSegmentLength
                || next >= Log.PackFiles.PackBit || (segments.Length > 0 && segments[0].Segment < next))
            {
                throw new InvalidDataException($"Index session record {number} names a pack group out of range.");
            }
            pack = new PackGroup((uint)n, (long)offset, (long)length, (uint)next);
        }
        return new Head(lastLsn, (long)dead, (int)lastState, (flags & ColdFlag) != 0, (int)messages, (int)summaries, segments, pack, Compact: true, DefaultLowWater: (flags & DefaultLowWaterFlag) != 0);
    }

    /// <summary>
    /// A message entry value: i64 timestamp ticks, then varints (LEB128) of record offset, record length,
    /// tokens and segment number, then u8 role and u8 flags. 14 to 35 bytes; about 19 for a typical store.
    /// </summary>
    public static byte[] EncodeMessage(in MessageEntry m)
    {
        Span<byte> v = stackalloc byte[MaxMessageSize];
        BinaryPrimitives.WriteInt64LittleEndian(v, m.TimeTicks);
        var at = 8;
        at += WriteVarint(v[at..], (ulong)m.Offset);
        at += WriteVarint(v[at..], (uint)m.Length);
        at += WriteVarint(v[at..], (uint)m.Tokens);
        var inPack = Log.PackFiles.IsPack(m.Segment);
        at += WriteVarint(v[at..], inPack ? Log.PackFiles.NumberOf(m.Segment) : m.Segment);
        v[at++] = m.Role;
        v[at++] = (byte)(m.Flags | (inPack ? InPackFlag : 0));
        return v[..at].ToArray();
    }

    public static MessageEntry DecodeMessage(long sequence, ReadOnlySpan<byte> v)
    {
        if (v.Length is < MinMessageSize or > MaxMessageSize)
        {
            throw new InvalidDataException($"Index message entry {sequence} is {v.Length} bytes.");
        }
        var ticks = BinaryPrimitives.ReadInt64LittleEndian(v);
        var at = 8;
        var offset = ReadVarint(v, ref at, sequence);
        var length = ReadVarint(v, ref at, sequence);
        var tokens = ReadVarint(v, ref at, sequence);
        var segment = ReadVarint(v, ref at, sequence);
        if (at + 2 != v.Length || offset > long.MaxValue || length > int.MaxValue || tokens > int.MaxValue || segment >= Log.PackFiles.PackBit
            || (v[at + 1] & InPackFlag) != 0 && segment == 0)
        {
            throw new InvalidDataException($"Index message entry {sequence} does not parse.");
        }
        var flags = v[at + 1];
        var location = (flags & InPackFlag) != 0 ? Log.PackFiles.Location((uint)segment) : (uint)segment;
        var m = new MessageEntry(sequence, ticks, (long)offset, (int)length, (int)tokens, location, v[at], (byte)(flags & ~InPackFlag), 0);
        // The reads trust these to address a record inside a segment.
        if (m.Offset < FileHeader.Size || m.Length < RecordHeader.Size || m.Length > RecordHeader.Size + RecordHeader.MaxPayload
            || !PayloadReader.IsValidTicks(m.TimeTicks))
        {
            throw new InvalidDataException($"Index message entry {sequence} is out of range.");
        }
        return m;
    }
}
