using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine.Codecs;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// Applies one record to the index. The live write path and recovery both go through here, so the index
/// that a restart rebuilds is, by construction, the index the running store had.
/// </summary>
internal static class RecordApplier
{
    /// <summary>
    /// Applies a verified record found at <paramref name="offset"/> of <paramref name="segment"/>; null on
    /// success, else why it does not fit. Only non-message records have their payload decoded.
    /// </summary>
    public static string? Apply(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> record, uint segment, long offset)
    {
        if (h.Type == RecordType.Message)
        {
            return ApplyDecoded(index, h, default, segment, offset, h.TotalLength);
        }
        var n = RecordCodec.DecodePayload(record, h, out var buffer);
        try
        {
            return ApplyDecoded(index, h, buffer.AsSpan(0, n), segment, offset, h.TotalLength);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static string? ApplyDecoded(SessionIndex index, in RecordHeader h, ReadOnlySpan<byte> payload, uint segment, long offset, int length)
    {
        if (!index.TryGet(h.Session, out var entry))
        {
            if (h.Type != RecordType.SessionState)
            {
                return $"{h.Type} record for unknown session {h.Session}";
            }
            var state = StateCodec.Read(payload);
            entry = new SessionEntry(h.Session, state) { LastLsn = h.Lsn, LastStateLength = length };
            entry.Segments.Add(new SegmentExtent(segment, offset + length));
            return index.TryAdd(entry) ? null : $"session id '{state.Metadata.SessionId}' appears under two numbers";
        }

        var refile = false;
        var relocated = false;
        lock (entry.Lock)
        {
            switch (h.Type)
            {
                case RecordType.Message:
                    entry.Messages.Add(new MessageEntry(h.Sequence, h.TimeTicks, offset, length, h.Tokens, segment, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0));
                    var s = entry.State;
                    s.LastSequence = Math.Max(s.LastSequence, h.Sequence);
                    s.LiveMessages++;
                    s.LiveTokens += h.Tokens;
                    if (h.WrittenTicks > s.Metadata.UpdatedAt.UtcTicks)
                    {
                        s.Metadata.UpdatedAt = new DateTimeOffset(h.WrittenTicks, TimeSpan.Zero);
                        refile = true;
                    }
                    break;
                case RecordType.SessionState:
                    entry.DeadBytes += entry.LastStateLength;
                    entry.LastStateLength = length;
                    entry.State = StateCodec.Read(payload);
                    refile = true;
                    break;
                case RecordType.Summary:
                    entry.Summaries.Add(SummaryCodec.Read(payload, entry.State.Metadata.SessionId));
                    break;
                case RecordType.Evict:
                    var evicted = new HashSet<long>(EvictCodec.Read(payload));
                    entry.Messages.RemoveAll(m =>
                    {
                        if (!evicted.Contains(m.Sequence))
                        {
                            return false;
                        }
                        entry.DeadBytes += m.Length;
                        return true;
                    });
                    entry.DeadBytes += length;
                    // Oldest-first eviction is saved as a cut of the range's head; anything else rewrites it.
                    if (entry.Messages.Count > 0)
                    {
                        foreach (var seq in evicted)
                        {
                            if (seq > entry.Messages[0].Sequence)
                            {
                                relocated = true;
                                break;
                            }
                        }
                    }
                    break;
                case RecordType.SessionDelete:
                    break;
            }
            entry.LastLsn = h.Lsn;
            entry.Changed(relocated);
            entry.Touch();
            var last = entry.Segments.Count - 1;
            if (last >= 0 && entry.Segments[last].Segment == segment)
            {
                entry.Segments[last] = new SegmentExtent(segment, Math.Max(entry.Segments[last].Length, offset + length));
            }
            else
            {
                entry.Segments.Add(new SegmentExtent(segment, offset + length));
            }
        }
        if (h.Type == RecordType.SessionDelete)
        {
            index.Remove(entry);
        }
        else if (refile)
        {
            index.Refile(entry);
        }
        return null;
    }
}
