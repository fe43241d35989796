using System.Buffers;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Format.Codecs;

/// <summary>
/// Session state payload, version 2: session id, user id, created/updated ticks, status, max messages, max tokens,
/// auto-summarize threshold, strategy, metadata JSON, last sequence, live messages, live tokens, summarized-through,
/// eviction low-water mark (f64). Version 1 is the same without the last field; it reads with the default
/// low-water mark (<see cref="SessionMetadata.DefaultEvictionLowWater"/>).
/// </summary>
internal static class StateCodec
{
    private const byte Version = 2;

    public static void Write(IBufferWriter<byte> output, SessionState s)
    {
        var m = s.Metadata;
        var w = new PayloadWriter(output);
        w.WriteByte(Version);
        w.WriteString(m.SessionId);
        w.WriteString(m.UserId);
        w.WriteInt64(m.CreatedAt.UtcTicks);
        w.WriteInt64(m.UpdatedAt.UtcTicks);
        w.WriteByte((byte)m.Status);
        w.WriteInt32(m.MaxMessages);
        w.WriteInt32(m.MaxTokens);
        w.WriteInt32(m.AutoSummarizeThreshold);
        w.WriteByte((byte)m.SummaryStrategy);
        w.WriteJson(m.Metadata.Count == 0 ? null : m.Metadata);
        w.WriteInt64(s.LastSequence);
        w.WriteInt32(s.LiveMessages);
        w.WriteInt64(s.LiveTokens);
        w.WriteInt64(s.SummarizedThrough);
        w.WriteInt64(BitConverter.DoubleToInt64Bits(m.EvictionLowWater));
    }

    /// <summary>The status and updated time of a state payload, read past the ids only.</summary>
    public static (SessionStatus Status, long UpdatedTicks) ReadStatus(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var version = r.ReadByte();
        if (version is < 1 or > Version)
        {
            throw new InvalidDataException($"Session state version {version} is not supported (this reader knows 1 to {Version}).");
        }
        r.SkipString();
        r.SkipString();
        _ = r.ReadInt64();
        var updated = r.ReadInt64();
        return ((SessionStatus)r.ReadByte(), updated);
    }

    public static SessionState Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var version = r.ReadByte();
        if (version is < 1 or > Version)
        {
            throw new InvalidDataException($"Session state version {version} is not supported (this reader knows 1 to {Version}).");
        }
        var meta = new SessionMetadata
        {
            SessionId = r.ReadString() ?? throw new InvalidDataException("Session state without an id."),
            UserId = r.ReadString(),
            CreatedAt = r.ReadUtcTicks(),
            UpdatedAt = r.ReadUtcTicks(),
            Status = (SessionStatus)r.ReadByte(),
            MaxMessages = r.ReadInt32(),
            MaxTokens = r.ReadInt32(),
            AutoSummarizeThreshold = r.ReadInt32(),
            SummaryStrategy = (SummaryStrategy)r.ReadByte(),
        };
        meta.Metadata = r.ReadJsonObject() ?? new JsonObject();
        var state = new SessionState(meta)
        {
            LastSequence = r.ReadInt64(),
            LiveMessages = r.ReadInt32(),
            LiveTokens = r.ReadInt64(),
            SummarizedThrough = r.ReadInt64(),
        };
        if (version >= 2)
        {
            meta.EvictionLowWater = BitConverter.Int64BitsToDouble(r.ReadInt64());
        }
        return state;
    }
}
