using StackExchange.Redis;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>One redis-server for the whole test collection, started before and stopped after it.</summary>
public sealed class RedisServerFixture : IAsyncLifetime
{
    private RedisServer? _server;
    private ConnectionMultiplexer? _admin;

    /// <summary>The running server.</summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException("Server not started.");

    /// <summary>A direct connection for inspecting keys in tests.</summary>
    public IDatabase Db => (_admin ?? throw new InvalidOperationException("Server not started.")).GetDatabase();

    /// <summary>Options for a backend on this server under <paramref name="prefix"/>.</summary>
    public RedisBackendOptions Options(string prefix, int? ttlSeconds = null) => new()
    {
        Host = "127.0.0.1",
        Port = Server.Port,
        KeyPrefix = prefix,
        TtlSeconds = ttlSeconds,
    };

    /// <summary>A new, unconnected backend on this server.</summary>
    public RedisBackend CreateBackend(string prefix, int? ttlSeconds = null) => new(Options(prefix, ttlSeconds));

    /// <summary>A unique key prefix for one test.</summary>
    public static string NewPrefix() => "test:" + Guid.NewGuid().ToString("N")[..16];

    /// <summary>Deletes every key under a prefix (tests may scan; the backend never does).</summary>
    public async Task DeletePrefixAsync(string prefix)
    {
        var server = _admin!.GetServer(Server.Endpoint);
        var keys = new List<RedisKey>();
        await foreach (var k in server.KeysAsync(pattern: prefix + ":*"))
        {
            keys.Add(k);
        }
        if (keys.Count > 0)
        {
            await Db.KeyDeleteAsync(keys.ToArray());
        }
    }

    /// <summary>Every key under a prefix.</summary>
    public async Task<List<string>> KeysAsync(string prefix)
    {
        var list = new List<string>();
        await foreach (var k in _admin!.GetServer(Server.Endpoint).KeysAsync(pattern: prefix + ":*"))
        {
            list.Add(k!);
        }
        return list;
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        _server = await RedisServer.StartAsync();
        _admin = await ConnectionMultiplexer.ConnectAsync($"{_server.Endpoint},allowAdmin=true");
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
        }
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>The test collection sharing one redis-server.</summary>
[CollectionDefinition(Name)]
public sealed class RedisCollection : ICollectionFixture<RedisServerFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "redis-server";
}
