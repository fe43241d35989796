using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Format.Codecs;

/// <summary>Summary payload: id, text, message count, token count, created ticks, type, first and last sequence.</summary>
internal static class SummaryCodec
{
    public static void Write(IBufferWriter<byte> output, ConversationSummary s)
    {
        var w = new PayloadWriter(output);
        w.WriteString(s.SummaryId);
        w.WriteString(s.SummaryText);
        w.WriteInt32(s.MessageCount);
        w.WriteInt32(s.TokenCount);
        w.WriteInt64(s.CreatedAt.UtcTicks);
        w.WriteByte((byte)s.SummaryType);
        w.WriteInt64(s.FirstSequence);
        w.WriteInt64(s.LastSequence);
    }

    public static ConversationSummary Read(ReadOnlySpan<byte> payload, string sessionId)
    {
        var r = new PayloadReader(payload);
        return new ConversationSummary
        {
            SummaryId = r.ReadString() ?? throw new InvalidDataException("Summary without an id."),
            SessionId = sessionId,
            SummaryText = r.ReadString() ?? string.Empty,
            MessageCount = r.ReadInt32(),
            TokenCount = r.ReadInt32(),
            CreatedAt = r.ReadUtcTicks(),
            SummaryType = (SummaryType)r.ReadByte(),
            FirstSequence = r.ReadInt64(),
            LastSequence = r.ReadInt64(),
        };
    }
}

/// <summary>Evict payload: varint count, then the evicted sequences as varint deltas (ascending).</summary>
internal static class EvictCodec
{
    public static void Write(IBufferWriter<byte> output, IReadOnlyList<long> sequences)
    {
        var w = new PayloadWriter(output);
        w.WriteVarint((ulong)sequences.Count);
        long prev = 0;
        foreach (var s in sequences)
        {
            w.WriteVarint((ulong)(s - prev));
            prev = s;
        }
    }

    public static long[] Read(ReadOnlySpan<byte> payload)
    {
        var r = new PayloadReader(payload);
        var n = r.ReadVarint();
        if (n > (ulong)r.Remaining)
        {
            throw new InvalidDataException("Evict record count exceeds its payload.");
        }
        var seqs = new long[(int)n];
        long prev = 0;
        for (var i = 0; i < seqs.Length; i++)
        {
            prev += (long)r.ReadVarint();
            seqs[i] = prev;
        }
        return seqs;
    }
}
