using LangSwarm.Memory.Conformance;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>The Redis backend on a 3-primary Redis Cluster against the shared conformance suite.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterConformanceTests(RedisClusterFixture cluster) : BackendConformanceTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    /// <inheritdoc />
    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(cluster.CreateBackend(_prefix));

    /// <inheritdoc />
    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = cluster.CreateBackend(_prefix);
        await reopened.ConnectAsync();
        return reopened;
    }

    /// <inheritdoc />
    protected override Task CleanupStorageAsync() => cluster.DeletePrefixAsync(_prefix);
}

/// <summary>The Redis session store on a 3-primary Redis Cluster against the storage contract.</summary>
[Collection(RedisClusterCollection.Name)]
public sealed class RedisClusterStoreContractTests(RedisClusterFixture cluster) : SessionStoreContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    /// <inheritdoc />
    protected override ISessionStore CreateStore() => new RedisSessionStore(cluster.Options(_prefix));

    /// <inheritdoc />
    protected override ISessionStore? ReopenStore() => new RedisSessionStore(cluster.Options(_prefix));

    /// <inheritdoc />
    protected override Task CleanupStorageAsync() => cluster.DeletePrefixAsync(_prefix);
}
