using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>Everything the index knows of one session. Mutable fields are guarded by <see cref="Lock"/>.</summary>
internal sealed class SessionEntry(ulong number, SessionState state, List<MessageEntry>? messages = null)
{
    public ulong Number { get; } = number;

    public object Lock { get; } = new();

    public SessionState State { get; set; } = state;

    /// <summary>Live messages, ascending by sequence (the list passed in is taken over, not copied).</summary>
    public List<MessageEntry> Messages { get; } = messages ?? [];

    public List<ConversationSummary> Summaries { get; } = [];

    /// <summary>The session's segments in order, with their lengths; the last takes appends.</summary>
    public List<SegmentExtent> Segments { get; } = [];

    /// <summary>LSN of the last record applied (recovery skips records at or below it).</summary>
    public ulong LastLsn { get; set; }

    /// <summary>Bytes of records no longer needed (evicted messages, superseded states): what vacuum reclaims.</summary>
    public long DeadBytes { get; set; }

    /// <summary>The listing key the session is filed under now.</summary>
    public SessionKey IndexedKey { get; set; }

    public string? IndexedUser { get; set; }

    public SessionStatus IndexedStatus { get; set; }

    /// <summary>True once compaction rewrote the session in its cold (archived, LZ4 HC) form.</summary>
    public bool Cold { get; set; }

    /// <summary>Byte position of the last session-state record (it becomes dead when a newer one is written).</summary>
    public int LastStateLength { get; set; }

    /// <summary>Index of the first message at or above <paramref name="sequence"/>.</summary>
    public int LowerBound(long sequence)
    {
        int lo = 0, hi = Messages.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Messages[mid].Sequence < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}

/// <summary>A segment of a session and how many bytes of it are valid.</summary>
internal record struct SegmentExtent(uint Segment, long Length);

/// <summary>Listing order: newest activity first, then session id (ordinal).</summary>
internal readonly record struct SessionKey(long UpdatedTicks, string SessionId) : IComparable<SessionKey>
{
    public int CompareTo(SessionKey other)
    {
        var c = other.UpdatedTicks.CompareTo(UpdatedTicks);
        return c != 0 ? c : string.CompareOrdinal(SessionId, other.SessionId);
    }
}
