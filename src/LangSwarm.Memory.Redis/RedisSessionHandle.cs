using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// One Redis session, found once: its keys are built when the handle is made, and each write is one script
/// (<see cref="RedisSessionScripts"/>) on the session's slot — one round trip in the common case — that checks the
/// session's generation token, computes the counters from what the session stores and answers them. The index
/// entries follow (see <see cref="RedisIndexes"/>): after a create or a save, and after an add that moved the
/// activity time past the index slack.
/// </summary>
/// <remarks>
/// <para>The handle keeps one metadata object, shared with the snapshots it hands out: an append moves its
/// <see cref="SessionMetadata.UpdatedAt"/> in place (no copy per add); a save or refresh replaces it.</para>
/// <para>Concurrent writers: a save names the metadata version the handle last read; when another process (or
/// handle) saved meanwhile, the handle reads the stored metadata, merges the caller's changes onto it
/// (<see cref="RedisMetadataMerge"/>) and saves again, so neither writer's update is lost.</para>
/// </remarks>
internal sealed class RedisSessionHandle : ISessionHandle
{
    private const int MaxSaveAttempts = 16;

    private static readonly RedisScript AppendScript = new(RedisSessionScripts.Append);
    private static readonly RedisScript EvictScript = new(RedisSessionScripts.Evict);
    private static readonly RedisScript AddSummaryScript = new(RedisSessionScripts.AddSummary);
    private static readonly RedisScript SaveScript = new(RedisSessionScripts.Save);

    private readonly RedisConnection _connection;
    private readonly RedisSessionKeys _keys;
    private readonly RedisIndexes _indexes;
    private readonly RedisSessionReader _reader;
    private readonly string _generation;
    private readonly long _ttlMs;
    private SessionSnapshot _state;
    private long _version;

    /// <summary>Creates the handle of a session generation whose stored state is <paramref name="state"/> at metadata version <paramref name="version"/>.</summary>
    public RedisSessionHandle(RedisConnection connection, RedisSessionKeys keys, RedisIndexes indexes, string generation, long version, long ttlMs, SessionSnapshot state)
    {
        _connection = connection;
        _keys = keys;
        _indexes = indexes;
        _generation = generation;
        _version = version;
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
        var (state, version) = await ReadStoredAsync().ConfigureAwait(false);
        _version = version;
        return _state = SessionSnapshot.Of(state);
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        var n = messages.Count;
        RedisResult[] r;
        var score = RedisMapping.Score(updatedAt);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            var args = new RedisValue[6 + (3 * n)];
            args[0] = _generation;
            args[1] = _ttlMs;
            args[2] = updatedAt.UtcTicks;
            args[3] = score;
            args[4] = RedisIndexes.SlackMs;
            args[5] = n;
            for (var i = 0; i < n; i++)
            {
                var m = messages[i];
                args[6 + (3 * i)] = RedisMapping.MessageToJson(m);
                args[7 + (3 * i)] = RedisMapping.InfoTail(m);
                args[8 + (3 * i)] = m.TokenCount ?? 0;
            }
            r = await EvaluateAsync(AppendScript, args).ConfigureAwait(false);
        }
        catch
        {
            for (var i = 0; i < n; i++)
            {
                messages[i].Sequence = 0;
            }
            throw;
        }
        var meta = _state.Metadata;
        meta.UpdatedAt = updatedAt;
        var state = Apply(r, meta);
        var first = state.LastSequence - n + 1;
        for (var i = 0; i < n; i++)
        {
            messages[i].Sequence = first + i;
        }
        if ((long)r[5] == 1)
        {
            // The stored activity time left the index slack: move the index entries (the add itself is done).
            await _indexes.PutQuietlyAsync(_keys.Meta, SessionId, _generation, (long)r[8], score, (int)r[6], (string)r[7]!).ConfigureAwait(false);
        }
        return state;
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
        var r = await EvaluateAsync(EvictScript, args).ConfigureAwait(false);
        return Apply(r, _state.Metadata);
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        RedisValue[] args = [_generation, _ttlMs, RedisMapping.SummaryToJson(summary), summary.LastSequence];
        var r = await EvaluateAsync(AddSummaryScript, args).ConfigureAwait(false);
        return Apply(r, _state.Metadata);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Version-checked: when another writer saved since this handle last read the session, the caller's changes
    /// (against the metadata this handle held) are merged onto the stored metadata and saved again. A
    /// <paramref name="summarizedThrough"/> equal to what this handle last saw leaves the stored mark alone.
    /// </remarks>
    public async Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var meta = metadata.Clone();
        var origin = _state.Metadata;
        var originThrough = _state.SummarizedThrough;
        var expected = _version;
        for (var attempt = 0; attempt < MaxSaveAttempts; attempt++)
        {
            var score = RedisMapping.Score(meta.UpdatedAt);
            var owner = RedisKeys.OwnerMarker(meta.UserId);
            var fields = RedisMapping.MetadataFields(meta);
            RedisValue[] args =
            [
                _generation, _ttlMs, expected, score, owner, lastSequence, summarizedThrough, originThrough, fields.Count / 2, .. fields,
            ];
            var r = await EvaluateAsync(SaveScript, args).ConfigureAwait(false);
            if ((string)r[0]! == RedisSessionScripts.Conflict)
            {
                var (stored, version) = await ReadStoredAsync().ConfigureAwait(false);
                meta = RedisMetadataMerge.Merge(origin, meta, stored.Metadata);
                if (summarizedThrough == originThrough)
                {
                    summarizedThrough = stored.SummarizedThrough;
                }
                origin = stored.Metadata;
                originThrough = stored.SummarizedThrough;
                expected = version;
                continue;
            }
            _version = (long)r[5];
            var state = Apply(r, meta);
            await _indexes.PutQuietlyAsync(_keys.Meta, SessionId, _generation, _version, score, (int)meta.Status, owner).ConfigureAwait(false);
            return state;
        }
        throw new MemoryException($"Session '{SessionId}' kept being saved by other writers; {MaxSaveAttempts} attempts lost the race and nothing was stored.");
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
    public Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _reader.ReadNewestInfosAsync(query, limit, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken) =>
        _reader.ReadSummariesAsync();

    /// <summary>Runs a write script: one round trip; a gone session (or another generation) throws, nothing written.</summary>
    private async Task<RedisResult[]> EvaluateAsync(RedisScript script, RedisValue[] args)
    {
        var r = (RedisResult[])(await _connection.EvaluateAsync(script, _keys.Session, args).ConfigureAwait(false))!;
        return (string)r[0]! switch
        {
            RedisSessionScripts.Ok or RedisSessionScripts.Conflict => r,
            RedisSessionScripts.Missing => throw new SessionNotFoundException(SessionId),
            var other => throw new MemoryException($"Unexpected answer '{other}' from a Redis write script for session '{SessionId}'."),
        };
    }

    /// <summary>The stored state and metadata version of this generation; <see cref="SessionNotFoundException"/> when gone.</summary>
    private async Task<(SessionState State, long Version)> ReadStoredAsync()
    {
        var meta = _keys.Meta;
        var entries = await _connection.Guard(db => db.HashGetAllAsync(meta)).ConfigureAwait(false);
        if (RedisMapping.StateFromHash(entries, out var generation, out var version) is not { } state
            || !string.Equals(generation, _generation, StringComparison.Ordinal))
        {
            throw new SessionNotFoundException(SessionId);
        }
        return (state, version);
    }

    /// <summary>Keeps the counters the script answered, with <paramref name="metadata"/>.</summary>
    private SessionSnapshot Apply(RedisResult[] r, SessionMetadata metadata) =>
        _state = new SessionSnapshot(metadata, (long)r[1], (int)r[2], (long)r[3], (long)r[4]);
}
