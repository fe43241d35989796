using System.Security.Cryptography;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The Redis <see cref="ISessionStore"/>: one hash per session (metadata, counters, generation token, UTC-tick
/// timestamps), a hash of message JSON keyed by sequence, a sorted set of compact message facts scored by sequence,
/// and a list of summaries (sessions of the earlier layout, messages in a sorted set, are read as they are and
/// converted by their next add or eviction; see <see cref="RedisSessionScripts"/>); sharded sorted sets index sessions by activity time and by status, one per user by user, so
/// listing and clean-up never scan the keyspace. Every session write is one Lua script on the session's hash slot
/// (<see cref="RedisSessionScripts"/>); index entries follow it (<see cref="RedisIndexes"/>).
/// </summary>
/// <remarks>
/// With a TTL, every key of a session carries it, renewed on each write; index entries of expired sessions are
/// removed lazily, when listing, clean-up or statistics meet them. While the server is away, calls fail at once
/// with <see cref="BackendUnavailableException"/>; the connection comes back by itself.
/// </remarks>
internal sealed class RedisSessionStore : ISessionStore
{
    // A registry field outlives its session by this much, so an add racing the expiry never finds it gone first.
    private const long RegistryTtlMarginMs = 60_000;

    private readonly RedisKeys _keys;
    private readonly long _ttlMs;
    private readonly RedisConnection _connection;
    private readonly RedisIndexes _indexes;
    private readonly RedisSessionQueries _queries;
    private readonly RedisUsage _usage;
    private readonly RedisIndexRepair _repair;

    /// <summary>Creates an unopened store over validated options.</summary>
    public RedisSessionStore(RedisBackendOptions options)
    {
        Options = options;
        _keys = new RedisKeys(options.KeyPrefix);
        _ttlMs = options.TtlSeconds is > 0 and var t ? t * 1000L : 0;
        _connection = new RedisConnection(options);
        _indexes = new RedisIndexes(_connection, _keys);
        var reader = new RedisIndexReader(_connection);
        _queries = new RedisSessionQueries(_connection, _keys, _indexes, reader);
        _usage = new RedisUsage(_connection, _keys, _indexes, reader, options, _ttlMs);
        _repair = new RedisIndexRepair(_connection, _keys, _indexes);
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
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        await _connection.OpenAsync([.. RedisSessionScripts.All, .. RedisReadScripts.All, .. RedisScripts.All]).ConfigureAwait(false);
        // Registry fields expire with their sessions where every primary has HPEXPIRE (Redis 7.4+); else ghosts are purged when met.
        _indexes.RegistryTtlMs = _ttlMs > 0 && _connection.HasHashFieldExpiry ? _ttlMs + RegistryTtlMarginMs : 0;
    }

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
    /// <remarks>The session is written first (one script on its slot), then indexed; see <see cref="RedisIndexes"/>.</remarks>
    public async Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        var meta = metadata.Clone();
        var id = meta.SessionId;
        var keys = new RedisSessionKeys(_keys, id);
        var generation = Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var fields = RedisMapping.MetadataFields(meta);
        var owner = RedisKeys.OwnerMarker(meta.UserId);
        var score = RedisMapping.Score(meta.UpdatedAt);
        RedisValue[] args = [generation, _ttlMs, score, owner, fields.Count / 2, .. fields];
        var result = (RedisResult[])(await _connection.Guard(db => db.ScriptEvaluateAsync(RedisSessionScripts.Create, keys.Session, args)).ConfigureAwait(false))!;
        switch ((string)result[0]!)
        {
            case RedisSessionScripts.Ok:
                await _indexes.PutQuietlyAsync(keys.Meta, id, generation, 1, score, (int)meta.Status, owner).ConfigureAwait(false);
                return new RedisSessionHandle(_connection, keys, _indexes, generation, 1, _ttlMs, new SessionSnapshot(meta, 0, 0, 0, 0));
            case RedisSessionScripts.Exists:
                return null;
            default:
                throw new MemoryException($"Unexpected answer '{result[0]}' from the Redis create script.");
        }
    }

    /// <inheritdoc />
    public async Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var keys = new RedisSessionKeys(_keys, sessionId);
        var entries = await _connection.Guard(db => db.HashGetAllAsync(keys.Meta)).ConfigureAwait(false);
        if (RedisMapping.StateFromHash(entries, out var generation, out var version) is not { } state)
        {
            return null;
        }
        return new RedisSessionHandle(_connection, keys, _indexes, generation, version, _ttlMs, SessionSnapshot.Of(state));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        _queries.QueryAsync(query, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) => _indexes.RemoveAsync(sessionId);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken) =>
        _queries.UpdatedBeforeAsync(cutoff, status, cancellationToken);

    /// <inheritdoc />
    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) => _usage.ComputeAsync(cancellationToken);

    /// <summary>How the sessions stand against their TTL: expiring within 1 h, within 24 h, and without TTL.</summary>
    public Task<TtlStats> GetTtlStatsAsync(CancellationToken cancellationToken) => _usage.ComputeTtlAsync(cancellationToken);

    /// <summary>Rewrites every session's index entries from its hash (see <see cref="RedisIndexRepair"/>).</summary>
    public Task<long> RepairIndexesAsync(CancellationToken cancellationToken) => _repair.RunAsync(cancellationToken);
}
