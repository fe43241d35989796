using System.Security.Cryptography;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The Redis <see cref="ISessionStore"/>: one hash per session (metadata, counters, generation token, UTC-tick
/// timestamps), a sorted set of message JSON and one of compact message facts, both scored by sequence, and a
/// list of summaries; global sorted sets index sessions by activity time, by user and by status, so listing and
/// clean-up never scan the keyspace. Every write is one Lua script (<see cref="RedisSessionScripts"/>).
/// </summary>
/// <remarks>
/// With a TTL, every key of a session carries it, renewed on each write; index entries of expired sessions are
/// removed lazily, when listing, clean-up or statistics meet them. While the server is away, calls fail at once
/// with <see cref="BackendUnavailableException"/>; the connection comes back by itself.
/// </remarks>
internal sealed class RedisSessionStore : ISessionStore
{
    private const int MaxOwnerRetries = 5;

    private readonly RedisKeys _keys;
    private readonly long _ttlMs;
    private readonly RedisConnection _connection;
    private readonly RedisIndexes _indexes;
    private readonly RedisUsage _usage;

    /// <summary>Creates an unopened store over validated options.</summary>
    public RedisSessionStore(RedisBackendOptions options)
    {
        Options = options;
        _keys = new RedisKeys(options.KeyPrefix);
        _ttlMs = options.TtlSeconds is > 0 and var t ? t * 1000L : 0;
        _connection = new RedisConnection(options);
        _indexes = new RedisIndexes(_connection, _keys);
        _usage = new RedisUsage(_connection, _keys, _indexes, options, _ttlMs);
    }

    /// <summary>The options the store was made with.</summary>
    public RedisBackendOptions Options { get; }

    /// <summary>Where the store connects, for messages (no password).</summary>
    public string Endpoint => _connection.Endpoint;

    /// <summary>Called with the message of every connection failure (for a health report).</summary>
    public Action<string>? ErrorSink
    {
        get => _connection.ErrorSink;
        set => _connection.ErrorSink = value;
    }

    /// <inheritdoc />
    public Task OpenAsync(CancellationToken cancellationToken) =>
        _connection.OpenAsync([.. RedisSessionScripts.All, RedisScripts.RemoveSession]);

    /// <inheritdoc />
    public Task CloseAsync(CancellationToken cancellationToken) => _connection.CloseAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(_connection.CloseAsync());

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken)
    {
        await _connection.Guard(db => db.PingAsync()).ConfigureAwait(false);
        return [];
    }

    /// <inheritdoc />
    public async Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        var meta = metadata.Clone();
        var id = meta.SessionId;
        var keys = new RedisSessionKeys(_keys, id, meta.UserId);
        var generation = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var fields = RedisMapping.MetadataFields(meta);
        // The owners hash names no one for a new id, or the owner of a vanished session; guess the new owner first.
        var expected = keys.Owner;
        for (var attempt = 0; attempt < MaxOwnerRetries; attempt++)
        {
            RedisValue[] args =
            [
                generation, _ttlMs, id, RedisMapping.Score(meta.UpdatedAt), (int)meta.Status, keys.Owner, expected, fields.Count / 2,
                .. fields,
            ];
            var writeKeys = keys.Write(meta.UserId, expected);
            var result = (RedisResult[])(await _connection.Guard(db => db.ScriptEvaluateAsync(RedisSessionScripts.Create, writeKeys, args)).ConfigureAwait(false))!;
            switch ((string)result[0]!)
            {
                case RedisSessionScripts.Ok:
                    return new RedisSessionHandle(_connection, keys, generation, _ttlMs, new SessionSnapshot(meta, 0, 0, 0, 0));
                case RedisSessionScripts.Exists:
                    return null;
                case RedisSessionScripts.Retry:
                    expected = (string)result[1]!;
                    continue;
                default:
                    throw new MemoryException($"Unexpected answer '{result[0]}' from the Redis create script.");
            }
        }
        throw new MemoryException($"Session '{id}' kept changing owner while being created; nothing was stored.");
    }

    /// <inheritdoc />
    public async Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var meta = _keys.Meta(sessionId);
        var entries = await _connection.Guard(db => db.HashGetAllAsync(meta)).ConfigureAwait(false);
        if (RedisMapping.StateFromHash(entries, out var generation) is not { } state)
        {
            return null;
        }
        var keys = new RedisSessionKeys(_keys, sessionId, state.Metadata.UserId);
        return new RedisSessionHandle(_connection, keys, generation, _ttlMs, SessionSnapshot.Of(state));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        var index = query.UserId is not null ? _keys.UserIndex(query.UserId)
            : query.Status is { } s ? _keys.StatusIndex(s)
            : _keys.TimeIndex;
        var need = (long)query.Offset + query.Limit;
        var batch = (int)Math.Clamp(need, 16, RedisIndexes.Chunk);
        var matched = new List<SessionMetadata>();
        var ghosts = new List<string>();
        long rank = 0;
        double? boundary = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var start = rank;
            var entries = await _connection.Guard(db => db.SortedSetRangeByRankWithScoresAsync(index, start, start + batch - 1, Order.Descending)).ConfigureAwait(false);
            if (entries.Length == 0)
            {
                break;
            }
            rank += entries.Length;
            var states = await _connection.Guard(db => Task.WhenAll(entries.Select(e => db.HashGetAllAsync(_keys.Meta((string)e.Element!))))).ConfigureAwait(false);
            var done = false;
            for (var i = 0; i < entries.Length; i++)
            {
                if (boundary is { } b && entries[i].Score < b)
                {
                    done = true;
                    break;
                }
                var state = RedisMapping.StateFromHash(states[i]);
                if (state is null)
                {
                    ghosts.Add((string)entries[i].Element!);
                    continue;
                }
                if (query.Matches(state.Metadata))
                {
                    matched.Add(state.Metadata);
                    if (boundary is null && matched.Count >= need)
                    {
                        // Scores are whole milliseconds: keep reading everything with this score so ties sort exactly.
                        boundary = entries[i].Score;
                    }
                }
            }
            if (done || entries.Length < batch)
            {
                break;
            }
        }
        await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        matched.Sort(SessionQuery.Compare);
        return matched.Skip(query.Offset).Take(query.Limit).ToList();
    }

    /// <inheritdoc />
    public async Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        await _indexes.RemoveAsync(sessionId, ghostOnly: false).ConfigureAwait(false) == "deleted";

    /// <inheritdoc />
    /// <remarks>
    /// Reads the status index when a status is given, else the time index. Scores are floored milliseconds, so
    /// "score &lt;= floor(cutoff)" is a superset; each candidate's hash decides exactly.
    /// </remarks>
    public async Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken)
    {
        var index = status is { } st ? _keys.StatusIndex(st) : _keys.TimeIndex;
        var max = RedisMapping.Score(cutoff);
        RedisValue[] fields = [RedisMapping.FUpdatedAt, RedisMapping.FStatus];
        var ids = new List<string>();
        var ghosts = new List<string>();
        long skip = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var from = skip;
            var chunk = await _connection.Guard(db => db.SortedSetRangeByScoreAsync(index, double.NegativeInfinity, max, Exclude.None, Order.Ascending, from, RedisIndexes.Chunk)).ConfigureAwait(false);
            if (chunk.Length == 0)
            {
                break;
            }
            skip += chunk.Length;
            var stored = await _connection.Guard(db => Task.WhenAll(chunk.Select(id => db.HashGetAsync(_keys.Meta((string)id!), fields)))).ConfigureAwait(false);
            for (var i = 0; i < chunk.Length; i++)
            {
                var id = (string)chunk[i]!;
                var updated = stored[i][0];
                if (updated.IsNull)
                {
                    ghosts.Add(id);
                }
                else if ((long)updated < cutoff.UtcTicks && (status is null || (int)stored[i][1] == (int)status.Value))
                {
                    ids.Add(id);
                }
            }
            if (chunk.Length < RedisIndexes.Chunk)
            {
                break;
            }
        }
        await _indexes.PurgeGhostsAsync(ghosts, cancellationToken).ConfigureAwait(false);
        return ids;
    }

    /// <inheritdoc />
    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) => _usage.ComputeAsync(cancellationToken);

    /// <summary>How the sessions stand against their TTL: expiring within 1 h, within 24 h, and without TTL.</summary>
    public Task<TtlStats> GetTtlStatsAsync(CancellationToken cancellationToken) => _usage.ComputeTtlAsync(cancellationToken);
}
