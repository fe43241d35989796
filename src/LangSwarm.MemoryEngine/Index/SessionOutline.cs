using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// What a pass over every session needs of each (the sweep, the vacuum's choice, verify): its segments, dead
/// bytes and status, read from a session record without decoding its metadata, or taken from the entry in memory.
/// </summary>
internal readonly record struct SessionOutline(ulong Number, SegmentExtent[] Segments, long DeadBytes, bool Cold, SessionStatus Status)
{
    /// <summary>The outline of an entry in memory (caller holds its lock).</summary>
    public static SessionOutline Of(SessionEntry e) => new(e.Number, [.. e.Segments], e.DeadBytes, e.Cold, e.State.Metadata.Status);
}
