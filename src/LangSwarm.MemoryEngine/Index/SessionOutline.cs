using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// What a pass over every session needs of each (the sweep, the vacuum's choice, verify): its segments, dead
/// bytes and status, read from a session record without decoding its metadata, or taken from the entry in memory.
/// </summary>
internal readonly record struct SessionOutline(ulong Number, SegmentExtent[] Segments, long DeadBytes, bool Cold, SessionStatus Status, PackGroup? Pack = null, long UpdatedTicks = 0)
{
    /// <summary>The outline of an entry in memory (caller holds its lock).</summary>
    public static SessionOutline Of(SessionEntry e) => new(e.Number, [.. e.Segments], e.DeadBytes, e.Cold, e.State.Metadata.Status, e.Pack, e.State.Metadata.UpdatedAt.UtcTicks);

    /// <summary>The number of its newest own segment, or below its next one when it has none (a packed session).</summary>
    public long LastSegment => Segments.Length > 0 ? Segments[^1].Segment : (long)(Pack?.NextSegment ?? 0) - 1;

    /// <summary>Bytes of its records: own segments past their headers, and its pack group.</summary>
    public long Bytes
    {
        get
        {
            long total = Pack?.Length ?? 0;
            foreach (var s in Segments)
            {
                total += s.Length - Format.FileHeader.Size;
            }
            return total;
        }
    }
}
