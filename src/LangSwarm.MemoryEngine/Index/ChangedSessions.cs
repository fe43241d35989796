namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The sessions changed since the last checkpoint, in the order they first changed: a checkpoint visits these,
/// not every session. Its own lock is a leaf (taken under an entry's lock, never the other way round).
/// </summary>
internal sealed class ChangedSessions
{
    private readonly object _lock = new();
    private List<SessionEntry> _entries = [];

    /// <summary>Queues a changed entry (called once per entry until drained).</summary>
    public void Add(SessionEntry entry)
    {
        lock (_lock)
        {
            _entries.Add(entry);
        }
    }

    /// <summary>The entries queued since the last call (some may since have been removed).</summary>
    public List<SessionEntry> Drain()
    {
        lock (_lock)
        {
            var entries = _entries;
            _entries = [];
            return entries;
        }
    }
}
