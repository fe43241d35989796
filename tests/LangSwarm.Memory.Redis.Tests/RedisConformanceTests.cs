using LangSwarm.Memory.Conformance;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>The Redis backend against the shared conformance suite; each test gets its own key prefix.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisConformanceTests(RedisServerFixture redis) : BackendConformanceTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    /// <inheritdoc />
    protected override Task<IMemoryBackend> CreateBackendAsync() => Task.FromResult<IMemoryBackend>(redis.CreateBackend(_prefix));

    /// <inheritdoc />
    protected override async Task<IMemoryBackend> ReopenAsync(IMemoryBackend backend)
    {
        await backend.DisposeAsync();
        var reopened = redis.CreateBackend(_prefix);
        await reopened.ConnectAsync();
        return reopened;
    }

    /// <inheritdoc />
    protected override Task CleanupStorageAsync() => redis.DeletePrefixAsync(_prefix);
}
