using System.Collections.Concurrent;

namespace LangSwarm.Memory;

/// <summary>
/// The in-memory store: sessions in a dictionary, each an <see cref="Entry"/> that owns its messages,
/// summaries and counters under its own lock. Reads hand out copies, so callers never share mutable state.
/// </summary>
internal sealed class InMemorySessionStore : ISessionStore
{
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);

    public Task OpenAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task CloseAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) => Task.FromResult<IReadOnlyList<string>>([]);

    public Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        var entry = new Entry(new SessionState(metadata.Clone()));
        return Task.FromResult<ISessionHandle?>(_sessions.TryAdd(metadata.SessionId, entry) ? new InMemorySessionHandle(entry) : null);
    }

    public Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        Task.FromResult<ISessionHandle?>(_sessions.TryGetValue(sessionId, out var e) ? new InMemorySessionHandle(e) : null);

    public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        var matches = new List<SessionMetadata>();
        foreach (var e in _sessions.Values)
        {
            lock (e)
            {
                if (query.Matches(e.State.Metadata))
                {
                    matches.Add(e.State.Metadata.Clone());
                }
            }
        }
        matches.Sort(SessionQuery.Compare);
        var page = new List<SessionMetadata>(Math.Max(0, Math.Min(query.Limit, matches.Count - query.Offset)));
        for (var i = query.Offset; i < matches.Count && page.Count < query.Limit; i++)
        {
            page.Add(matches[i]);
        }
        return Task.FromResult<IReadOnlyList<SessionMetadata>>(page);
    }

    public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryRemove(sessionId, out var e))
        {
            return Task.FromResult(false);
        }
        lock (e)
        {
            e.Removed = true;
        }
        return Task.FromResult(true);
    }

    public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var (id, e) in _sessions)
        {
            lock (e)
            {
                var m = e.State.Metadata;
                if (m.UpdatedAt < cutoff && (status is null || m.Status == status))
                {
                    ids.Add(id);
                }
            }
        }
        return Task.FromResult<IReadOnlyList<string>>(ids);
    }

    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken)
    {
        long sessions = 0, active = 0, archived = 0, messages = 0, summaries = 0, bytes = 0;
        foreach (var e in _sessions.Values)
        {
            lock (e)
            {
                sessions++;
                active += e.State.Metadata.Status == SessionStatus.Active ? 1 : 0;
                archived += e.State.Metadata.Status == SessionStatus.Archived ? 1 : 0;
                messages += e.Messages.Count;
                summaries += e.Summaries.Count;
                foreach (var m in e.Messages)
                {
                    // An estimate of the managed footprint: UTF-16 text plus object overhead.
                    bytes += (m.Content.Length * 2) + 160;
                }
            }
        }
        return Task.FromResult(new UsageStats
        {
            Backend = InMemoryBackend.BackendName,
            TotalSessions = sessions,
            ActiveSessions = active,
            ArchivedSessions = archived,
            TotalMessages = messages,
            TotalSummaries = summaries,
            StorageBytes = bytes,
        });
    }

    /// <summary>One session: its state (the one owner of its counters), messages and summaries; lock the entry to use them.</summary>
    internal sealed class Entry(SessionState state)
    {
        public SessionState State { get; } = state;

        public List<Message> Messages { get; } = [];

        public List<ConversationSummary> Summaries { get; } = [];

        public bool Removed { get; set; }
    }
}
