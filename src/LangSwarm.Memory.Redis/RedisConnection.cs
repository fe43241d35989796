using System.Globalization;
using StackExchange.Redis;

namespace LangSwarm.Memory.Redis;

/// <summary>
/// The one multiplexed connection of a store: connects and closes it, loads the scripts, and turns connection loss
/// into <see cref="BackendUnavailableException"/> (commands fail at once while the server is away; the connection is
/// re-established in the background).
/// </summary>
internal sealed class RedisConnection
{
    private static readonly Version HashFieldExpiryVersion = new(7, 4);
    private static readonly string[] TransientPrefixes = ["CLUSTERDOWN", "TRYAGAIN", "READONLY", "MASTERDOWN", "LOADING"];

    private readonly RedisBackendOptions _options;
    private ConnectionMultiplexer? _mux;
    private IDatabase? _db;

    /// <summary>Creates an unconnected connection for the options.</summary>
    public RedisConnection(RedisBackendOptions options)
    {
        _options = options;
    }

    /// <summary>Called with the message of every connection failure (for a health report).</summary>
    public Action<string>? ErrorSink { get; set; }

    /// <summary>Where the connection goes, for messages (no password).</summary>
    public string Endpoint => string.IsNullOrWhiteSpace(_options.ConnectionString)
        ? $"{_options.Host}:{_options.Port.ToString(CultureInfo.InvariantCulture)}"
        : RedactedConnectionString();

    /// <summary>True when every primary has hash-field expiry (<c>HPEXPIRE</c>, Redis 7.4 and later); set at connect.</summary>
    public bool HasHashFieldExpiry { get; private set; }

    /// <summary>The primaries the connection knows (one for a standalone server, each shard's for a cluster).</summary>
    public IReadOnlyList<IServer> Primaries() => Primaries(_mux ?? throw NotConnected());

    /// <summary>The database, or <see cref="BackendUnavailableException"/> when not connected.</summary>
    public IDatabase Database => _db ?? throw NotConnected();

    /// <summary>Connects, checks the server answers and loads the scripts.</summary>
    public async Task OpenAsync(IEnumerable<string> scripts)
    {
        var config = BuildConfiguration();
        ConnectionMultiplexer mux;
        try
        {
            mux = await ConnectionMultiplexer.ConnectAsync(config).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or System.Net.Sockets.SocketException)
        {
            ErrorSink?.Invoke(ex.Message);
            throw new BackendUnavailableException($"Could not connect to Redis at {Endpoint}: {ex.Message}", ex);
        }
        try
        {
            var db = mux.GetDatabase(config.DefaultDatabase ?? _options.Db);
            await db.PingAsync().ConfigureAwait(false);
            await LoadScriptsAsync(mux, scripts).ConfigureAwait(false);
            HasHashFieldExpiry = Primaries(mux).All(server => server.Version >= HashFieldExpiryVersion);
            _db = db;
            _mux = mux;
        }
        catch (Exception ex)
        {
            await mux.DisposeAsync().ConfigureAwait(false);
            ErrorSink?.Invoke(ex.Message);
            throw new BackendUnavailableException($"Connected to Redis at {Endpoint} but it does not answer: {ex.Message}", ex);
        }
    }

    /// <summary>Closes the connection (letting commands in flight complete); a no-op when not connected.</summary>
    public async Task CloseAsync()
    {
        var mux = _mux;
        _mux = null;
        _db = null;
        if (mux is not null)
        {
            try
            {
                await mux.CloseAsync(allowCommandsToComplete: true).ConfigureAwait(false);
            }
            finally
            {
                await mux.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Runs a Redis call, turning connection loss into <see cref="BackendUnavailableException"/>.</summary>
    public async Task<T> Guard<T>(Func<IDatabase, Task<T>> call)
    {
        var db = Database;
        try
        {
            return await call(db).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// Runs a script by its SHA1 (<c>EVALSHA</c>); when the server does not hold it (<c>NOSCRIPT</c>: restarted, or a
    /// replica promoted since connect), by its text, which loads it there again. Connection loss becomes
    /// <see cref="BackendUnavailableException"/>, as in <see cref="Guard"/>.
    /// </summary>
    public async Task<RedisResult> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        var db = Database;
        try
        {
            try
            {
                return await db.ScriptEvaluateAsync(script.Hash, keys, args).ConfigureAwait(false);
            }
            catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
            {
                return await db.ScriptEvaluateAsync(script.Text, keys, args).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (IsUnavailable(ex))
        {
            throw Unavailable(ex);
        }
    }

    /// <summary>
    /// True for the exceptions that mean the server cannot be reached or cannot serve the key right now: connection
    /// loss and timeouts, and the transient refusals of a cluster or replica set in transition (<c>CLUSTERDOWN</c>,
    /// <c>TRYAGAIN</c>, <c>READONLY</c>, <c>MASTERDOWN</c>, <c>LOADING</c>; <c>MOVED</c>/<c>ASK</c> are followed by
    /// StackExchange.Redis itself).
    /// </summary>
    public static bool IsUnavailable(Exception ex) =>
        ex is RedisConnectionException or RedisTimeoutException or ObjectDisposedException
        || (ex is RedisServerException server && TransientPrefixes.Any(p => server.Message.StartsWith(p, StringComparison.Ordinal)));

    /// <summary>Records a connection failure and wraps it.</summary>
    public BackendUnavailableException Unavailable(Exception ex)
    {
        ErrorSink?.Invoke(ex.Message);
        return new BackendUnavailableException($"Redis at {Endpoint} is unavailable: {ex.Message}", ex);
    }

    /// <summary>The primaries' <c>used_memory</c> (<c>INFO memory</c>) summed, 0 when they do not say.</summary>
    public async Task<long> UsedMemoryAsync()
    {
        long total = 0;
        foreach (var server in Primaries())
        {
            total += await UsedMemoryAsync(server).ConfigureAwait(false);
        }
        return total;
    }

    private static IReadOnlyList<IServer> Primaries(ConnectionMultiplexer mux) =>
        [.. mux.GetServers().Where(server => server.IsConnected && !server.IsReplica)];

    private async Task<long> UsedMemoryAsync(IServer server)
    {
        var info = await Guard(_ => server.InfoAsync("memory")).ConfigureAwait(false);
        foreach (var group in info)
        {
            foreach (var (k, v) in group)
            {
                if (k == "used_memory" && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var used))
                {
                    return used;
                }
            }
        }
        return 0;
    }

    /// <summary>
    /// Loads the scripts on every endpoint, so the first call already goes by hash (<c>EVALSHA</c>). Evaluating a
    /// script by its text (as the store does) falls back to <c>EVAL</c> whenever the server has lost it (restart,
    /// <c>SCRIPT FLUSH</c>), so a server that refuses <c>SCRIPT LOAD</c> costs nothing but that first round.
    /// </summary>
    private static async Task LoadScriptsAsync(ConnectionMultiplexer mux, IEnumerable<string> scripts)
    {
        foreach (var endpoint in mux.GetEndPoints())
        {
            var server = mux.GetServer(endpoint);
            if (!server.IsConnected)
            {
                continue;
            }
            foreach (var script in scripts)
            {
                try
                {
                    await server.ScriptLoadAsync(script).ConfigureAwait(false);
                }
                catch (RedisException)
                {
                    // SCRIPT refused (an ACL, a managed service) or the endpoint went away: EVAL still works.
                }
            }
        }
    }

    private BackendUnavailableException NotConnected() =>
        new($"Backend '{RedisBackend.BackendName}' is not connected to Redis at {Endpoint}; call ConnectAsync first.");

    private ConfigurationOptions BuildConfiguration()
    {
        var config = string.IsNullOrWhiteSpace(_options.ConnectionString)
            ? new ConfigurationOptions { EndPoints = { { _options.Host, _options.Port } } }
            : ConfigurationOptions.Parse(_options.ConnectionString);
        if (config.Password is null && _options.Password is not null)
        {
            config.Password = _options.Password;
        }
        config.DefaultDatabase ??= _options.Db;
        if (_options.UseTls)
        {
            config.Ssl = true;
        }
        config.AbortOnConnectFail = true;
        // While the server is away, fail commands at once (BackendUnavailableException) instead of queueing them
        // until they time out, and try to reconnect soon: a restarted server is back in use within a second or two.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.ReconnectRetryPolicy = new ExponentialRetry(250, 2000);
        config.ConnectTimeout = _options.ConnectTimeoutSeconds * 1000;
        config.ClientName ??= "langswarm-memory";
        // Replies complete on the .NET thread pool instead of the library's dedicated I/O threads: an add's
        // continuation (the session layer's bookkeeping) then runs on one of the pool's threads without a hop
        // through the small dedicated pool, which under many concurrent callers became the queue every reply
        // waited in.
        config.SocketManager ??= SocketManager.ThreadPool;
        return config;
    }

    private string RedactedConnectionString()
    {
        try
        {
            return string.Join(",", ConfigurationOptions.Parse(_options.ConnectionString!).EndPoints.Select(e => e switch
            {
                System.Net.DnsEndPoint d => $"{d.Host}:{d.Port.ToString(CultureInfo.InvariantCulture)}",
                _ => e.ToString(),
            }));
        }
        catch (ArgumentException)
        {
            return "(unparsable connection string)";
        }
    }
}
