namespace LangSwarm.Memory.Redis;

/// <summary>
/// Stores sessions in Redis — a standalone server, a primary with replicas (or Sentinel), or a Redis Cluster: one
/// hash per session (metadata, counters, UTC-tick timestamps), a hash of message JSON keyed by sequence, a sorted
/// set of compact message facts scored by sequence (which orders the messages for range reads), and a list of
/// summaries. Sharded sorted sets index sessions by activity time and by status, one sorted set per user by user,
/// so listing and clean-up never scan the keyspace.
/// </summary>
/// <remarks>
/// <para><b>What is atomic where.</b> Every write to a session (create, add, evict, summary, save) is one Lua script
/// on the session's four keys, which share a Cluster hash slot: it is atomic on every topology, and an add is one
/// round trip in the common case. The index entries live in other slots (the time and status indexes in
/// <c>16</c> tagged shards, each user's index tagged by the user), so they are written after the session, never
/// in the same atomic step, on a single node as on a cluster. A failed index write after a successful session
/// write is reported to the health sink, not to the caller. The indexes repair themselves: a stale entry (its
/// session gone, or moved to another user) is detected and dropped when a listing, clean-up or the statistics
/// meet it; a missing one is restored by the session's next index write or by <see cref="RepairIndexesAsync"/>.
/// Index scores follow a session's activity lazily (an add rewrites them when they are more than a second off),
/// and listings read past that slack, so listing order is exact.</para>
/// <para><b>Concurrent writers.</b> Counters and message sequences are computed inside the write scripts from what
/// the session stores, so two processes adding to one session both succeed with distinct sequences and exact
/// counters. Metadata saves are version-checked: a save that lost a race to another process's save merges its
/// changes onto the stored metadata and saves again, so neither update is lost.</para>
/// <para><b>Earlier data.</b> Sessions written before the messages hash (their messages a sorted set of JSON
/// scored by sequence, no <c>layout</c> field in the session hash) are read as they are; their first add or
/// eviction converts their messages to the hash inside that write's script (atomic, once, O(messages)), keeping
/// sequences, JSON and TTL. Index data of earlier versions is handled by <see cref="RepairIndexesAsync"/>. A
/// process still running an earlier version cannot add to a converted session (Redis answers <c>WRONGTYPE</c>), so
/// upgrade every process writing a namespace before new ones write to it.</para>
/// <para>With <see cref="RedisBackendOptions.TtlSeconds"/> set, every key of a session carries the TTL, renewed on each
/// write. Index entries of expired sessions are removed lazily, when listing, clean-up or statistics meet them
/// (on Redis 7.4+, the registry fields expire with their sessions via <c>HPEXPIRE</c>).</para>
/// <para>When the server goes away, calls fail at once with <see cref="BackendUnavailableException"/> (nothing is queued);
/// the connection is re-established in the background and the same instance works again once the server is back.
/// On a cluster, redirections (<c>MOVED</c>/<c>ASK</c>) are followed by StackExchange.Redis; during a failover,
/// writes fail with <see cref="BackendUnavailableException"/> until a replica is promoted, and no acknowledged
/// write is lost beyond what Redis replication itself can lose (asynchronous replication: see the README).</para>
/// </remarks>
public sealed class RedisBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "redis";

    private readonly RedisSessionStore _store;

    /// <summary>Creates an unconnected backend.</summary>
    /// <exception cref="MemoryConfigurationException">The options cannot work.</exception>
    public RedisBackend(RedisBackendOptions? options = null)
        : this(new RedisSessionStore(Validated(options ?? new RedisBackendOptions())))
    {
    }

    private RedisBackend(RedisSessionStore store)
        : base(store, store.Options.TokenCounter, store.Options.Summarizer)
    {
        _store = store;
        _store.ErrorSink = RecordError;
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <summary>The options this backend was made with.</summary>
    public RedisBackendOptions Options => _store.Options;

    /// <summary>Where the backend connects, for messages.</summary>
    public string Endpoint => _store.Endpoint;

    /// <summary>How the sessions stand against their TTL: expiring within 1 h, within 24 h, and without TTL.</summary>
    public Task<TtlStats> GetTtlStatsAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return _store.GetTtlStatsAsync(cancellationToken);
    }

    /// <summary>
    /// The repair pass: scans every primary for this namespace's sessions (<c>SCAN</c>) and writes their index
    /// entries again from their hashes; returns how many sessions were indexed. Run it after upgrading from the
    /// single-primary layout (which kept unsharded indexes) or after index writes were reported failing; normal
    /// operation never needs it.
    /// </summary>
    public Task<long> RepairIndexesAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return _store.RepairIndexesAsync(cancellationToken);
    }

    private static RedisBackendOptions Validated(RedisBackendOptions options)
    {
        options.Validate();
        if (options.PoolSize != RedisBackendOptions.DefaultPoolSize)
        {
            RedisBackendOptions.WarnPoolSizeIgnored();
        }
        return options;
    }
}
