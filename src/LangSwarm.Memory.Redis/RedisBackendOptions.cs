namespace LangSwarm.Memory.Redis;

/// <summary>Settings of a <see cref="RedisBackend"/>.</summary>
public sealed class RedisBackendOptions
{
    /// <summary>The default key namespace.</summary>
    public const string DefaultKeyPrefix = "langswarm:memory";

    /// <summary>Server host name or address (ignored when <see cref="ConnectionString"/> is set).</summary>
    public string Host { get; set; } = "localhost";

    /// <summary>Server port (ignored when <see cref="ConnectionString"/> is set).</summary>
    public int Port { get; set; } = 6379;

    /// <summary>Logical database number (used unless the connection string names <c>defaultDatabase</c>).</summary>
    public int Db { get; set; }

    /// <summary>Password for <c>AUTH</c> (used unless the connection string names one).</summary>
    public string? Password { get; set; }

    /// <summary>The seed's default <c>pool_size</c>.</summary>
    public const int DefaultPoolSize = 10;

    /// <summary>
    /// Accepted for compatibility with the seed's <c>pool_size</c> and <b>ignored</b>: it opens nothing. StackExchange.Redis
    /// multiplexes every command of the process over one connection per endpoint (requests are pipelined, not
    /// queued behind each other), and Redis runs each primary's commands on one thread, so a second connection to
    /// the same primary adds no server capacity: one <see cref="RedisBackend"/> serves any number of concurrent
    /// callers. The value is validated (1 or more) and reported in usage stats; a value other than the default
    /// is warned about once per process (<see cref="System.Diagnostics.Trace.TraceWarning(string)"/>).
    /// </summary>
    public int PoolSize { get; set; } = DefaultPoolSize;

    /// <summary>The TTL of a session when none is set (the seed's 24 h), alike from options and from configuration.</summary>
    public const int DefaultTtlSeconds = 86400;

    /// <summary>
    /// Seconds a session lives after its last write (creation, messages, metadata changes, summaries); every key of
    /// the session carries the TTL and each write renews it. Default <see cref="DefaultTtlSeconds"/> (24 h), the
    /// same as the provider's <c>ttl_seconds</c> default. Null or 0: sessions never expire.
    /// </summary>
    public int? TtlSeconds { get; set; } = DefaultTtlSeconds;

    /// <summary>Namespace of every key this backend writes; two prefixes on one server never see each other's data.</summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>A StackExchange.Redis connection string (<c>host:port,password=...,ssl=true</c>); overrides host and port.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Connect over TLS.</summary>
    public bool UseTls { get; set; }

    /// <summary>Seconds to wait for the initial connection before failing.</summary>
    public int ConnectTimeoutSeconds { get; set; } = 5;

    /// <summary>Counts tokens of messages that arrive without a count (null: the default tokenizer).</summary>
    public ITokenCounter? TokenCounter { get; set; }

    /// <summary>Makes summaries (null: the extractive summarizer).</summary>
    public ISummarizer? Summarizer { get; set; }

    private static int _poolSizeWarned;

    /// <summary>Writes the one warning of the process that <see cref="PoolSize"/> is ignored.</summary>
    internal static void WarnPoolSizeIgnored()
    {
        if (Interlocked.Exchange(ref _poolSizeWarned, 1) == 0)
        {
            System.Diagnostics.Trace.TraceWarning(
                "LangSwarm.Memory.Redis: pool_size is ignored; one multiplexed connection per Redis endpoint serves every caller (see RedisBackendOptions.PoolSize).");
        }
    }

    /// <summary>Throws <see cref="MemoryConfigurationException"/> when a setting cannot work.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString) && string.IsNullOrWhiteSpace(Host))
        {
            throw new MemoryConfigurationException("Redis backend needs a host or a connection string.");
        }
        if (Port is < 1 or > 65535)
        {
            throw new MemoryConfigurationException($"Redis port must be between 1 and 65535 (got {Port}).");
        }
        if (Db < 0)
        {
            throw new MemoryConfigurationException($"Redis db must not be negative (got {Db}).");
        }
        if (PoolSize < 1)
        {
            throw new MemoryConfigurationException($"Redis pool_size must be at least 1 (got {PoolSize}).");
        }
        if (TtlSeconds is < 0)
        {
            throw new MemoryConfigurationException($"Redis ttl_seconds must be zero (no expiry) or positive (got {TtlSeconds}).");
        }
        if (ConnectTimeoutSeconds < 1)
        {
            throw new MemoryConfigurationException($"Redis connect timeout must be at least 1 second (got {ConnectTimeoutSeconds}).");
        }
        if (string.IsNullOrEmpty(KeyPrefix) || KeyPrefix.Contains('{', StringComparison.Ordinal) || KeyPrefix.Contains('}', StringComparison.Ordinal))
        {
            throw new MemoryConfigurationException(
                $"Redis key_prefix must be non-empty and free of '{{' and '}}' (they would move the cluster hash tag); got '{KeyPrefix}'.");
        }
    }
}
