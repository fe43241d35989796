using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>The index's parsed-page cache is an option: any size, none included, reads the same store.</summary>
public sealed class IndexCacheOptionTests
{
    [Theory]
    [InlineData(0L)]
    [InlineData(64L * 1024)]
    [InlineData(4L * 1024 * 1024)]
    public async Task AStoreReadsTheSame_WhateverTheIndexCacheHolds(long cacheBytes)
    {
        using var dir = new TempStore();
        var options = new EngineOptions { Path = dir.Path, Durability = DurabilityMode.None, IndexCacheBytes = cacheBytes };
        await using (var backend = new EngineBackend(options))
        {
            await backend.ConnectAsync();
            for (var i = 0; i < 300; i++)
            {
                var s = await backend.CreateSessionAsync(new SessionMetadata($"s{i}", $"u{i % 5}") { SummaryStrategy = SummaryStrategy.Manual });
                await s.AddMessagesAsync([new Message(MessageRole.User, $"q{i}") { TokenCount = 1 }, new Message(MessageRole.Assistant, $"a{i}") { TokenCount = 1 }]);
            }
        }
        await using (var reopened = new EngineBackend(options))
        {
            await reopened.ConnectAsync();
            for (var i = 299; i >= 0; i -= 7)
            {
                var messages = await (await reopened.GetSessionAsync($"s{i}"))!.GetMessagesAsync();
                Assert.Equal([$"q{i}", $"a{i}"], messages.Select(m => m.Content));
            }
            Assert.Equal(60, (await reopened.ListSessionsAsync("u3", null, 1000, 0)).Count);
            Assert.True((await reopened.VerifyAsync()).Ok);
        }
    }

    [Fact]
    public void TheProviderReadsIndexCacheMb()
    {
        using var dir = new TempStore();
        var provider = new EngineBackendProvider();
        var backend = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path, ["index_cache_mb"] = 32 }));
        Assert.Equal(32L << 20, backend.Options.IndexCacheBytes);
        var defaults = (EngineBackend)provider.Create(new BackendSettings(new Dictionary<string, object?> { ["path"] = dir.Path }));
        Assert.Equal(4L << 20, defaults.Options.IndexCacheBytes);
    }
}
