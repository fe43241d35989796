using System.Buffers;
using System.Text.Json.Nodes;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Engine.Codecs;

/// <summary>
/// Session state payload, version 1: session id, user id, created/updated ticks, status, max messages, max tokens,
/// auto-summarize threshold, strategy, metadata JSON, last sequence, live messages, live tokens, summarized-through.
/// </summary>
internal static class StateCodec
{
    private const byte Version = 1;

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
    }

    public static SessionState Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var version = r.ReadByte();
        if (version != Version)
        {
            throw new InvalidDataException($"Session state version {version} is not supported (this reader knows {Version}).");
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
        return new SessionState(meta)
        {
            LastSequence = r.ReadInt64(),
            LiveMessages = r.ReadInt32(),
            LiveTokens = r.ReadInt64(),
            SummarizedThrough = r.ReadInt64(),
        };
    }
}
