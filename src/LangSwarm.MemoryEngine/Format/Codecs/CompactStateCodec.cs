using System.Buffers;
using System.Text.Json.Nodes;
using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Format.Codecs;

/// <summary>
/// The compact form of a session's state inside a session record of version 3 (FORMAT.md §6.3): the fields of
/// the SessionState payload (§4.3) without its version byte, the updated time as a difference from the created
/// time, the integers as zigzag varints, and the eviction low-water mark left out when it is the default (the
/// session record's flags say which). A store of many small sessions holds one such state per session, and the
/// fixed-width form spent most of its bytes on zeros.
/// </summary>
internal static class CompactStateCodec
{
    /// <summary>True when the state's low-water mark is the default, which the compact form leaves out.</summary>
    public static bool HasDefaultLowWater(SessionState s) =>
        BitConverter.DoubleToInt64Bits(s.Metadata.EvictionLowWater) == BitConverter.DoubleToInt64Bits(SessionMetadata.DefaultEvictionLowWater);

    /// <summary>Writes the compact state; the low-water mark only when it is not the default.</summary>
    public static void Write(IBufferWriter<byte> output, SessionState s)
    {
        var m = s.Metadata;
        var w = new PayloadWriter(output);
        w.WriteString(m.SessionId);
        w.WriteString(m.UserId);
        var created = m.CreatedAt.UtcTicks;
        w.WriteInt64(created);
        w.WriteVarint(ZigZag(m.UpdatedAt.UtcTicks - created));
        w.WriteByte((byte)m.Status);
        w.WriteVarint(ZigZag(m.MaxMessages));
        w.WriteVarint(ZigZag(m.MaxTokens));
        w.WriteVarint(ZigZag(m.AutoSummarizeThreshold));
        w.WriteByte((byte)m.SummaryStrategy);
        w.WriteJson(m.Metadata.Count == 0 ? null : m.Metadata);
        w.WriteVarint(ZigZag(s.LastSequence));
        w.WriteVarint(ZigZag(s.LiveMessages));
        w.WriteVarint(ZigZag(s.LiveTokens));
        w.WriteVarint(ZigZag(s.SummarizedThrough));
        if (!HasDefaultLowWater(s))
        {
            w.WriteInt64(BitConverter.DoubleToInt64Bits(m.EvictionLowWater));
        }
    }

    /// <summary>The status and updated time of a compact state, read past the ids only.</summary>
    public static (SessionStatus Status, long UpdatedTicks) ReadStatus(ReadOnlySpan<byte> value)
    {
        var r = new PayloadReader(value);
        r.SkipString();
        r.SkipString();
        var created = r.ReadInt64();
        var updated = Updated(created, ref r);
        return ((SessionStatus)r.ReadByte(), updated);
    }

    /// <summary>Reads a compact state; <paramref name="defaultLowWater"/> says the low-water mark was left out.</summary>
    public static SessionState Read(ReadOnlySpan<byte> value, bool defaultLowWater)
    {
        var r = new PayloadReader(value);
        var id = r.ReadString() ?? throw new InvalidDataException("Session state without an id.");
        var user = r.ReadString();
        var created = r.ReadUtcTicks();
        var updated = Updated(created.UtcTicks, ref r);
        var meta = new SessionMetadata
        {
            SessionId = id,
            UserId = user,
            CreatedAt = created,
            UpdatedAt = PayloadReader.UtcFromTicks(updated),
            Status = (SessionStatus)r.ReadByte(),
            MaxMessages = Int32(ref r),
            MaxTokens = Int32(ref r),
            AutoSummarizeThreshold = Int32(ref r),
            SummaryStrategy = (SummaryStrategy)r.ReadByte(),
        };
        meta.Metadata = r.ReadJsonObject() ?? new JsonObject();
        var state = new SessionState(meta)
        {
            LastSequence = UnZigZag(r.ReadVarint()),
            LiveMessages = Int32(ref r),
            LiveTokens = UnZigZag(r.ReadVarint()),
            SummarizedThrough = UnZigZag(r.ReadVarint()),
        };
        meta.EvictionLowWater = defaultLowWater ? SessionMetadata.DefaultEvictionLowWater : BitConverter.Int64BitsToDouble(r.ReadInt64());
        return state;
    }

    /// <summary>Zigzag: small magnitudes of either sign take few varint bytes.</summary>
    public static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    public static long UnZigZag(ulong v) => (long)(v >> 1) ^ -(long)(v & 1);

    private static long Updated(long created, ref PayloadReader r)
    {
        var delta = UnZigZag(r.ReadVarint());
        // Both ends are valid times, so a sum outside them (or one that overflows) is damage.
        var updated = unchecked(created + delta);
        return (delta >= 0) == (updated >= created) && PayloadReader.IsValidTicks(updated)
            ? updated
            : throw new InvalidDataException("Session state with an updated time out of range.");
    }

    private static int Int32(ref PayloadReader r)
    {
        var v = UnZigZag(r.ReadVarint());
        return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new InvalidDataException("Session state with a 32-bit field out of range.");
    }
}
