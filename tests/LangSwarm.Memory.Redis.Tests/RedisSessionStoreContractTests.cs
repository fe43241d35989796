using LangSwarm.Memory.Conformance;
using Xunit;

namespace LangSwarm.Memory.Redis.Tests;

/// <summary>The Redis session store against the storage contract; each test gets its own key prefix.</summary>
[Collection(RedisCollection.Name)]
public sealed class RedisSessionStoreContractTests(RedisServerFixture redis) : SessionStoreContractTests
{
    private readonly string _prefix = RedisServerFixture.NewPrefix();

    /// <inheritdoc />
    protected override ISessionStore CreateStore() => new RedisSessionStore(redis.Options(_prefix));

    /// <inheritdoc />
    protected override ISessionStore? ReopenStore() => new RedisSessionStore(redis.Options(_prefix));

    /// <inheritdoc />
    protected override Task CleanupStorageAsync() => redis.DeletePrefixAsync(_prefix);
}
