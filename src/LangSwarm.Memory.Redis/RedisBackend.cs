namespace LangSwarm.Memory.Redis;

/// <summary>
/// Stores sessions in Redis: one hash per session (metadata, counters, UTC-tick timestamps), a sorted set of message
/// JSON and a sorted set of compact message facts, both scored by sequence, and a list of summaries. Global sorted
/// sets index sessions by activity time, by user and by status, so listing and clean-up never scan the keyspace.
/// </summary>
/// <remarks>
/// <para>Every change that touches more than one key runs as one Lua script (<see cref="RedisSessionScripts"/>,
/// <see cref="RedisScripts"/>), atomic on a single Redis node. A session's keys share a Cluster hash slot, but the
/// global indexes do not, so the backend needs a single primary (standalone, replicated or Sentinel); Redis Cluster
/// rejects the scripts with <c>CROSSSLOT</c>.</para>
/// <para>With <see cref="RedisBackendOptions.TtlSeconds"/> set, every key of a session carries the TTL, renewed on each
/// write. Index entries of expired sessions are removed lazily, when listing, clean-up or statistics meet them.</para>
/// <para>When the server goes away, calls fail at once with <see cref="BackendUnavailableException"/> (nothing is queued);
/// the connection is re-established in the background and the same instance works again once the server is back.</para>
/// <para>The counters and message sequences are computed inside the write scripts from what the session stores, so two
/// processes writing the same session at the same moment both succeed with distinct sequences and exact counters.</para>
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

    private static RedisBackendOptions Validated(RedisBackendOptions options)
    {
        options.Validate();
        return options;
    }
}
