using System.Collections.Concurrent;

namespace LangSwarm.Memory;

/// <summary>
/// Keeps everything in process memory: zero setup, sub-microsecond operations, gone when the process ends.
/// The reference behaviour the persistent backends are tested against.
/// </summary>
public sealed class InMemoryBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "in_memory";

    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);

    /// <summary>Creates an empty store.</summary>
    public InMemoryBackend(ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
        : base(tokenCounter, summarizer)
    {
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <inheritdoc />
    protected override Task OpenStoreAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    protected override Task CloseStoreAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc />
    protected internal override Task<bool> TryCreateSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.TryAdd(state.Metadata.SessionId, new Entry(state.Clone())));

    /// <inheritdoc />
    protected internal override Task<SessionState?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var e))
        {
            return Task.FromResult<SessionState?>(null);
        }
        lock (e)
        {
            return Task.FromResult<SessionState?>(e.State.Clone());
        }
    }

    /// <inheritdoc />
    protected internal override Task SaveSessionAsync(SessionState state, CancellationToken cancellationToken)
    {
        var e = Get(state.Metadata.SessionId);
        lock (e)
        {
            e.State = state.Clone();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected internal override Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken)
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
        IReadOnlyList<SessionMetadata> page = matches.Skip(query.Offset).Take(query.Limit).ToList();
        return Task.FromResult(page);
    }

    /// <inheritdoc />
    protected internal override Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        Task.FromResult(_sessions.TryRemove(sessionId, out _));

    /// <inheritdoc />
    protected internal override Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        var ids = new List<string>();
        foreach (var (id, e) in _sessions)
        {
            lock (e)
            {
                if (e.State.Metadata.UpdatedAt < cutoff)
                {
                    ids.Add(id);
                }
            }
        }
        return Task.FromResult<IReadOnlyList<string>>(ids);
    }

    /// <inheritdoc />
    protected internal override Task AppendMessagesAsync(SessionState state, IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        var e = Get(state.Metadata.SessionId);
        lock (e)
        {
            foreach (var m in messages)
            {
                e.Messages.Add(m.Clone());
            }
            e.State = state.Clone();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected internal override IAsyncEnumerable<Message> ReadMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var e))
        {
            return AsAsync(Array.Empty<Message>(), cancellationToken);
        }
        var list = new List<Message>();
        lock (e)
        {
            var start = LowerBound(e.Messages, query.FromSequence);
            for (var i = start; i < e.Messages.Count; i++)
            {
                var m = e.Messages[i];
                if (m.Sequence > query.ToSequence)
                {
                    break;
                }
                if (query.Matches(m))
                {
                    list.Add(m.Clone());
                }
            }
        }
        return AsAsync(list, cancellationToken);
    }

    /// <inheritdoc />
    protected internal override Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var e))
        {
            return Task.FromResult<IReadOnlyList<MessageInfo>>([]);
        }
        lock (e)
        {
            var infos = new MessageInfo[e.Messages.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                infos[i] = MessageInfo.Of(e.Messages[i]);
            }
            return Task.FromResult<IReadOnlyList<MessageInfo>>(infos);
        }
    }

    /// <inheritdoc />
    protected internal override Task RemoveMessagesAsync(SessionState state, IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        var e = Get(state.Metadata.SessionId);
        var set = new HashSet<long>(sequences);
        lock (e)
        {
            e.Messages.RemoveAll(m => set.Contains(m.Sequence));
            e.State = state.Clone();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected internal override Task AppendSummaryAsync(SessionState state, ConversationSummary summary, CancellationToken cancellationToken)
    {
        var e = Get(state.Metadata.SessionId);
        lock (e)
        {
            e.Summaries.Add(summary.Clone());
            e.State = state.Clone();
        }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected internal override Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(sessionId, out var e))
        {
            return Task.FromResult<IReadOnlyList<ConversationSummary>>([]);
        }
        lock (e)
        {
            return Task.FromResult<IReadOnlyList<ConversationSummary>>(e.Summaries.Select(s => s.Clone()).ToList());
        }
    }

    /// <inheritdoc />
    protected override Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken)
    {
        long sessions = 0, active = 0, archived = 0, messages = 0, summaries = 0, bytes = 0;
        foreach (var e in _sessions.Values)
        {
            lock (e)
            {
                sessions++;
                if (e.State.Metadata.Status == SessionStatus.Active)
                {
                    active++;
                }
                else if (e.State.Metadata.Status == SessionStatus.Archived)
                {
                    archived++;
                }
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
            Backend = Name,
            TotalSessions = sessions,
            ActiveSessions = active,
            ArchivedSessions = archived,
            TotalMessages = messages,
            TotalSummaries = summaries,
            StorageBytes = bytes,
        });
    }

    private Entry Get(string sessionId) =>
        _sessions.TryGetValue(sessionId, out var e) ? e : throw new SessionNotFoundException(sessionId);

    private static int LowerBound(List<Message> messages, long sequence)
    {
        int lo = 0, hi = messages.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (messages[mid].Sequence < sequence)
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

    private sealed class Entry(SessionState state)
    {
        public SessionState State { get; set; } = state;

        public List<Message> Messages { get; } = [];

        public List<ConversationSummary> Summaries { get; } = [];
    }
}
