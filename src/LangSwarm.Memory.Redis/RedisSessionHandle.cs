using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// One Redis session, found once: its keys are built when the handle is made, and each write is one script
/// (<see cref="RedisSessionScripts"/>) — one round trip — that checks the session's generation token, computes the
/// counters from what the session stores and answers them.
/// </summary>
/// <remarks>
/// The handle keeps one metadata object, shared with the snapshots it hands out: an append moves its
/// <see cref="SessionMetadata.UpdatedAt"/> in place (no copy per add); a save or refresh replaces it.
/// </remarks>
internal sealed class RedisSessionHandle : ISessionHandle
{
    private const int MaxOwnerRetries = 5;

    private readonly RedisConnection _connection;
    private readonly RedisSessionKeys _keys;
    private readonly RedisSessionReader _reader;
    private readonly string _generation;
    private readonly long _ttlMs;
    private SessionSnapshot _state;

    /// <summary>Creates the handle of a session generation whose stored state is <paramref name="state"/>.</summary>
    public RedisSessionHandle(RedisConnection connection, RedisSessionKeys keys, string generation, long ttlMs, SessionSnapshot state)
    {
        _connection = connection;
        _keys = keys;
        _generation = generation;
        _ttlMs = ttlMs;
        _state = state;
        SessionId = state.Metadata.SessionId;
        _reader = new RedisSessionReader(connection, keys, SessionId, generation);
    }

    /// <inheritdoc />
    public string SessionId { get; }

    /// <inheritdoc />
    public SessionSnapshot State => _state;

    /// <inheritdoc />
    public async Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        var meta = _keys.Meta;
        var entries = await _connection.Guard(db => db.HashGetAllAsync(meta)).ConfigureAwait(false);
        if (RedisMapping.StateFromHash(entries, out var generation) is not { } state
            || !string.Equals(generation, _generation, StringComparison.Ordinal))
        {
            throw new SessionNotFoundException(SessionId);
        }
        _keys.MoveTo(RedisKeys.OwnerMarker(state.Metadata.UserId));
        return _state = SessionSnapshot.Of(state);
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        var n = messages.Count;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var args = new RedisValue[7 + (3 * n)];
            args[0] = _generation;
            args[1] = _ttlMs;
            args[2] = SessionId;
            args[3] = updatedAt.UtcTicks;
            args[4] = RedisMapping.Score(updatedAt);
            args[5] = _keys.Owner;
            args[6] = n;
            for (var i = 0; i < n; i++)
            {
                var m = messages[i];
                args[7 + (3 * i)] = RedisMapping.MessageToJson(m, withSequence: false);
                args[8 + (3 * i)] = RedisMapping.InfoTail(m);
                args[9 + (3 * i)] = m.TokenCount ?? 0;
            }
            for (var attempt = 0; attempt < MaxOwnerRetries; attempt++)
            {
                var r = await EvaluateAsync(RedisSessionScripts.Append, _keys.Append, args).ConfigureAwait(false);
                if (IsRetry(r))
                {
                    _keys.MoveTo((string)r[1]!);
                    args[5] = _keys.Owner;
                    continue;
                }
                var meta = _state.Metadata;
                meta.UpdatedAt = updatedAt;
                var state = Apply(r, meta);
                var first = state.LastSequence - n + 1;
                for (var i = 0; i < n; i++)
                {
                    messages[i].Sequence = first + i;
                }
                return state;
            }
            throw OwnerChanging();
        }
        catch
        {
            for (var i = 0; i < n; i++)
            {
                messages[i].Sequence = 0;
            }
            throw;
        }
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var args = new RedisValue[2 + sequences.Count];
        args[0] = _generation;
        args[1] = _ttlMs;
        for (var i = 0; i < sequences.Count; i++)
        {
            args[2 + i] = sequences[i];
        }
        var r = await EvaluateAsync(RedisSessionScripts.Evict, _keys.Session, args).ConfigureAwait(false);
        return Apply(r, _state.Metadata);
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RedisValue[] args = [_generation, _ttlMs, RedisMapping.SummaryToJson(summary), summary.LastSequence];
        var r = await EvaluateAsync(RedisSessionScripts.AddSummary, _keys.Session, args).ConfigureAwait(false);
        return Apply(r, _state.Metadata);
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var meta = metadata.Clone();
        var owner = RedisKeys.OwnerMarker(meta.UserId);
        var fields = RedisMapping.MetadataFields(meta);
        var expected = _keys.Owner;
        for (var attempt = 0; attempt < MaxOwnerRetries; attempt++)
        {
            RedisValue[] args =
            [
                _generation, _ttlMs, SessionId, RedisMapping.Score(meta.UpdatedAt), (int)meta.Status, owner, expected,
                lastSequence, summarizedThrough, fields.Count / 2, .. fields,
            ];
            var r = await EvaluateAsync(RedisSessionScripts.Save, _keys.Write(meta.UserId, expected), args).ConfigureAwait(false);
            if (IsRetry(r))
            {
                expected = (string)r[1]!;
                continue;
            }
            _keys.MoveTo(owner);
            return Apply(r, meta);
        }
        throw OwnerChanging();
    }

    /// <inheritdoc />
    public IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, CancellationToken cancellationToken) =>
        _reader.ReadMessagesAsync(query, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
        _reader.ReadNewestMessagesAsync(query, limit, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken) =>
        _reader.ReadInfosAsync(0, long.MaxValue);

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken) =>
        _reader.ReadSummariesAsync();

    /// <summary>Runs a write script: one round trip; a gone session (or another generation) throws, nothing written.</summary>
    private async Task<RedisResult[]> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] args)
    {
        RedisResult result;
        try
        {
            result = await _connection.Database.ScriptEvaluateAsync(script, keys, args).ConfigureAwait(false);
        }
        catch (Exception ex) when (RedisConnection.IsUnavailable(ex))
        {
            throw _connection.Unavailable(ex);
        }
        var r = (RedisResult[])result!;
        return (string)r[0]! switch
        {
            RedisSessionScripts.Ok or RedisSessionScripts.Retry => r,
            RedisSessionScripts.Missing => throw new SessionNotFoundException(SessionId),
            var other => throw new MemoryException($"Unexpected answer '{other}' from a Redis write script for session '{SessionId}'."),
        };
    }

    private static bool IsRetry(RedisResult[] r) => (string)r[0]! == RedisSessionScripts.Retry;

    /// <summary>Keeps the counters the script answered, with <paramref name="metadata"/>.</summary>
    private SessionSnapshot Apply(RedisResult[] r, SessionMetadata metadata) =>
        _state = new SessionSnapshot(metadata, (long)r[1], (int)r[2], (long)r[3], (long)r[4]);

    private MemoryException OwnerChanging() =>
        new($"Session '{SessionId}' kept changing owner while being written; nothing was stored.");
}
