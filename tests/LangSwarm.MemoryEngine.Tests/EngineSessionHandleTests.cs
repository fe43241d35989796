using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// What the engine's store and handles add to the storage contract: a removed or closed session writes nothing,
/// and concurrent creates of one id make exactly one session.
/// </summary>
public sealed class EngineSessionHandleTests : IDisposable
{
    private readonly TempStore _dir = new();

    private EngineSessionStore Make() => new(new EngineOptions { Path = _dir.Path });

    private static Message Msg(string text) => new(MessageRole.User, text) { TokenCount = 1 };

    [Fact]
    public async Task RemovedSession_WritesNothingToTheLog()
    {
        await using var store = Make();
        await store.OpenAsync(CancellationToken.None);
        var h = (await store.CreateSessionAsync(new SessionMetadata("s", "u"), CancellationToken.None))!;
        var stale = (await store.OpenSessionAsync("s", CancellationToken.None))!;
        await h.AppendAsync([Msg("a")], DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.True(await store.RemoveSessionAsync("s", CancellationToken.None));
        var log = store.Engine.LogBytes;
        await Assert.ThrowsAsync<SessionNotFoundException>(() => stale.AppendAsync([Msg("b")], DateTimeOffset.UtcNow, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => stale.SaveAsync(new SessionMetadata("s", "u"), 0, 0, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => stale.AddSummaryAsync(new ConversationSummary { SessionId = "s", SummaryText = "x", FirstSequence = 1, LastSequence = 1 }, CancellationToken.None));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => stale.ReadMessageInfosAsync(CancellationToken.None));
        Assert.Equal(log, store.Engine.LogBytes);
        Assert.Empty(store.Engine.Damage);
    }

    [Fact]
    public async Task HandleOfAClosedStore_StopsWorking_AndAReopenedStoreNeedsANewOne()
    {
        var store = Make();
        await store.OpenAsync(CancellationToken.None);
        var h = (await store.CreateSessionAsync(new SessionMetadata("s", "u"), CancellationToken.None))!;
        await store.CloseAsync(CancellationToken.None);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => h.AppendAsync([Msg("a")], DateTimeOffset.UtcNow, CancellationToken.None));
        await store.OpenAsync(CancellationToken.None);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => h.RefreshAsync(CancellationToken.None));
        var again = (await store.OpenSessionAsync("s", CancellationToken.None))!;
        Assert.Equal(1L, (await again.AppendAsync([Msg("a")], DateTimeOffset.UtcNow, CancellationToken.None)).LastSequence);
        await store.DisposeAsync();
    }

    [Fact]
    public async Task ConcurrentCreates_OfOneId_FileExactlyOne()
    {
        await using var store = Make();
        await store.OpenAsync(CancellationToken.None);
        for (var round = 0; round < 20; round++)
        {
            var id = $"race-{round}";
            var made = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => store.CreateSessionAsync(new SessionMetadata(id, "u"), CancellationToken.None))));
            Assert.Single(made, h => h is not null);
        }
        Assert.Equal(20, store.Engine.Index.Count);
        Assert.Empty(store.Engine.Damage);
    }

    public void Dispose() => _dir.Dispose();
}
