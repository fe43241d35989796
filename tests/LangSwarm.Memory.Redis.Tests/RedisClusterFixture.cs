using System.Diagnostics;
using StackExchange.Redis;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>
/// One Redis Cluster for the whole test collection: three primaries and one replica each, on free loopback ports,
/// made with <c>redis-cli --cluster create</c>; every process it started is stopped after the collection.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private const int Primaries = 3;

    private readonly List<RedisServer> _nodes = [];
    private ConnectionMultiplexer? _admin;

    /// <summary>A connection for inspecting and administering the cluster in tests.</summary>
    public ConnectionMultiplexer Admin => _admin ?? throw new InvalidOperationException("Cluster not started.");

    /// <summary>The connection string naming every node (the backend finds the topology from any of them).</summary>
    public string ConnectionString => string.Join(",", _nodes.Select(n => n.Endpoint));

    /// <summary>Options for a backend on this cluster under <paramref name="prefix"/>.</summary>
    public RedisBackendOptions Options(string prefix, int? ttlSeconds = null) => new()
    {
        ConnectionString = ConnectionString,
        KeyPrefix = prefix,
        TtlSeconds = ttlSeconds,
    };

    /// <summary>A new, unconnected backend on this cluster.</summary>
    public RedisBackend CreateBackend(string prefix, int? ttlSeconds = null) => new(Options(prefix, ttlSeconds));

    /// <summary>Deletes every key under a prefix, on every primary (tests may scan; the backend never does).</summary>
    public async Task DeletePrefixAsync(string prefix)
    {
        var db = Admin.GetDatabase();
        foreach (var server in Admin.GetServers().Where(s => s.IsConnected && !s.IsReplica))
        {
            await foreach (var key in server.KeysAsync(pattern: prefix + ":*"))
            {
                await db.KeyDeleteAsync(key);
            }
        }
    }

    /// <summary>
    /// Fails over the primary that holds <paramref name="key"/> to its replica (<c>CLUSTER FAILOVER</c> on the
    /// replica: it catches up, then takes over) and waits until the cluster routes the key to the new primary.
    /// </summary>
    public async Task FailoverAsync(RedisKey key)
    {
        var config = await Admin.GetServers().First(s => s.IsConnected).ClusterNodesAsync() ?? throw new InvalidOperationException("No cluster configuration.");
        var slot = Admin.HashSlot(key);
        var primary = config.Nodes.Single(n => !n.IsReplica && n.Slots.Any(r => r.From <= slot && slot <= r.To));
        var replica = config.Nodes.First(n => n.IsReplica && n.ParentNodeId == primary.NodeId);
        var server = Admin.GetServer(replica.EndPoint!);
        await server.ExecuteAsync("CLUSTER", "FAILOVER");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            var role = await server.ExecuteAsync("ROLE");
            if ((string)((RedisResult[])role!)[0]! == "master")
            {
                await Admin.ConfigureAsync();
                return;
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"{replica.EndPoint} did not take over from {primary.EndPoint}.");
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        try
        {
            for (var i = 0; i < Primaries * 2; i++)
            {
                _nodes.Add(await RedisServer.StartClusterNodeAsync());
            }
            await CreateClusterAsync();
            _admin = await ConnectionMultiplexer.ConnectAsync($"{ConnectionString},allowAdmin=true");
            await WaitUntilReadyAsync();
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_admin is not null)
        {
            await _admin.DisposeAsync();
            _admin = null;
        }
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        _nodes.Clear();
    }

    private async Task CreateClusterAsync()
    {
        var psi = new ProcessStartInfo(RedisServer.FindExecutable("redis-cli"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("--cluster");
        psi.ArgumentList.Add("create");
        foreach (var node in _nodes)
        {
            psi.ArgumentList.Add(node.Endpoint);
        }
        foreach (var a in new[] { "--cluster-replicas", "1", "--cluster-yes" })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("Could not start redis-cli.");
        var output = p.StandardOutput.ReadToEndAsync();
        var errors = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        if (p.ExitCode != 0)
        {
            throw new InvalidOperationException($"redis-cli --cluster create failed ({p.ExitCode}):\n{await output}\n{await errors}");
        }
    }

    private async Task WaitUntilReadyAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var ready = true;
            foreach (var node in _nodes)
            {
                var server = Admin.GetServer(node.Endpoint);
                var info = (string)(await server.ExecuteAsync("CLUSTER", "INFO"))!;
                var role = (RedisResult[])(await server.ExecuteAsync("ROLE"))!;
                var linked = (string)role[0]! == "master" || (string)role[3]! == "connected";
                ready &= info.Contains("cluster_state:ok", StringComparison.Ordinal) && linked;
            }
            if (ready)
            {
                await Admin.ConfigureAsync();
                if (Admin.GetServers().Count(s => s.IsConnected && !s.IsReplica) == Primaries)
                {
                    return;
                }
            }
            await Task.Delay(100);
        }
        throw new InvalidOperationException("The Redis Cluster did not become ready within 30 s.");
    }
}

/// <summary>The test collection sharing one Redis Cluster.</summary>
[CollectionDefinition(Name)]
public sealed class RedisClusterCollection : ICollectionFixture<RedisClusterFixture>
{
    /// <summary>The collection name.</summary>
    public const string Name = "redis-cluster";
}
