namespace LangSwarm.Memory;

/// <summary>
/// Adapts a backend that still implements <see cref="MemoryBackendBase"/>'s storage hooks to
/// <see cref="ISessionStore"/>. Transitional: removed once every backend has its own store.
/// </summary>
internal sealed class LegacyHookStore(MemoryBackendBase backend) : ISessionStore
{
    // The hooks' create is not atomic against a concurrent create of the same id; creates go one at a time.
    private readonly SemaphoreSlim _creates = new(1, 1);

    public Task OpenAsync(CancellationToken cancellationToken) => backend.OpenLegacyAsync(cancellationToken);

    public Task CloseAsync(CancellationToken cancellationToken) => backend.CloseLegacyAsync(cancellationToken);

    public ValueTask DisposeAsync() => backend.DisposeLegacyAsync();

    public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) => backend.ProbeLegacyAsync(cancellationToken);

    public async Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        var state = new SessionState(metadata);
        await _creates.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await backend.TryCreateSessionAsync(state, cancellationToken).ConfigureAwait(false) ? new Handle(backend, state.Clone()) : null;
        }
        finally
        {
            _creates.Release();
        }
    }

    public async Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var state = await backend.LoadSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : new Handle(backend, state);
    }

    public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        backend.QuerySessionsAsync(query, cancellationToken);

    public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        backend.RemoveSessionAsync(sessionId, cancellationToken);

    public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken) =>
        status is { } s
            ? backend.FindSessionsUpdatedBeforeAsync(cutoff, s, cancellationToken)
            : backend.FindSessionsUpdatedBeforeAsync(cutoff, cancellationToken);

    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) => backend.StatsLegacyAsync(cancellationToken);

    private sealed class Handle(MemoryBackendBase backend, SessionState state) : ISessionHandle
    {
        private SessionState _state = state;

        public string SessionId => _state.Metadata.SessionId;

        public SessionSnapshot State => SessionSnapshot.Of(_state);

        public async Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken)
        {
            _state = await backend.LoadSessionAsync(SessionId, cancellationToken).ConfigureAwait(false) ?? throw new SessionNotFoundException(SessionId);
            return State;
        }

        public async Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
        {
            var next = _state.Clone();
            for (var i = 0; i < messages.Count; i++)
            {
                messages[i].Sequence = next.LastSequence + 1 + i;
                next.LiveTokens += messages[i].TokenCount ?? 0;
            }
            next.LastSequence += messages.Count;
            next.LiveMessages += messages.Count;
            next.Metadata.UpdatedAt = updatedAt;
            try
            {
                await backend.AppendMessagesAsync(next, messages, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                foreach (var m in messages)
                {
                    m.Sequence = 0;
                }
                throw;
            }
            _state = next;
            return State;
        }

        public async Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
        {
            var infos = await backend.ReadMessageInfosAsync(SessionId, cancellationToken).ConfigureAwait(false);
            var set = new HashSet<long>(sequences);
            var next = _state.Clone();
            foreach (var i in infos)
            {
                if (set.Contains(i.Sequence))
                {
                    next.LiveMessages--;
                    next.LiveTokens -= i.TokenCount;
                }
            }
            await backend.RemoveMessagesAsync(next, sequences, cancellationToken).ConfigureAwait(false);
            _state = next;
            return State;
        }

        public async Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken)
        {
            var next = _state.Clone();
            next.SummarizedThrough = Math.Max(next.SummarizedThrough, summary.LastSequence);
            await backend.AppendSummaryAsync(next, summary, cancellationToken).ConfigureAwait(false);
            _state = next;
            return State;
        }

        public async Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
        {
            var next = _state.Clone();
            next.Metadata = metadata.Clone();
            next.LastSequence = Math.Max(next.LastSequence, lastSequence);
            next.SummarizedThrough = summarizedThrough;
            await backend.SaveSessionAsync(next, cancellationToken).ConfigureAwait(false);
            _state = next;
            return State;
        }

        public IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, CancellationToken cancellationToken) =>
            backend.ReadMessagesAsync(SessionId, query, cancellationToken);

        public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
            backend.ReadNewestMessagesAsync(SessionId, query, limit, cancellationToken);

        public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken) =>
            backend.ReadMessageInfosAsync(SessionId, cancellationToken);

        public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken) =>
            backend.ReadSummariesAsync(SessionId, cancellationToken);
    }
}
