namespace LangSwarm.Memory.Redis;

/// <summary>
/// Makes <see cref="RedisBackend"/> instances from configuration. Options: <c>host</c>, <c>port</c>, <c>db</c>,
/// <c>password</c>, <c>pool_size</c>, <c>ttl_seconds</c> (default 86400, the seed's 24 h; 0 turns expiry off),
/// <c>key_prefix</c>, <c>connection_string</c>, <c>ssl</c> or <c>use_tls</c>, and the retention options of
/// <see cref="RetentionPolicy"/>.
/// </summary>
public sealed class RedisBackendProvider : IMemoryBackendProvider
{
    /// <summary>The TTL a configured backend gets when <c>ttl_seconds</c> is not given (the seed's default).</summary>
    public const int DefaultTtlSeconds = RedisBackendOptions.DefaultTtlSeconds;

    private static readonly string[] ValidOptions =
        ["host", "port", "db", "password", "pool_size", "ttl_seconds", "key_prefix", "connection_string", "ssl", "use_tls", .. RetentionPolicy.OptionNames];

    /// <inheritdoc />
    public string Name => RedisBackend.BackendName;

    /// <inheritdoc />
    public string Description => "Redis server: shared across processes, TTL-based session expiry, key namespacing.";

    /// <inheritdoc />
    public IMemoryBackend Create(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.EnsureOnly(Name, ValidOptions);
        var defaults = new RedisBackendOptions();
        var options = new RedisBackendOptions
        {
            Host = settings.GetString("host", defaults.Host)!,
            Port = settings.GetInt("port", defaults.Port, 1, 65535),
            Db = settings.GetInt("db", defaults.Db, 0),
            Password = settings.GetString("password"),
            PoolSize = settings.GetInt("pool_size", defaults.PoolSize, 1),
            TtlSeconds = settings.GetInt("ttl_seconds", DefaultTtlSeconds, 0),
            KeyPrefix = settings.GetString("key_prefix", defaults.KeyPrefix)!,
            ConnectionString = settings.GetString("connection_string"),
            UseTls = settings.GetBool("use_tls", settings.GetBool("ssl", false)),
        };
        return new RedisBackend(options) { Retention = RetentionPolicy.FromSettings(settings) };
    }
}
