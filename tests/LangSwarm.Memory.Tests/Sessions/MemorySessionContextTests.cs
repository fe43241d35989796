using Xunit;

namespace LangSwarm.Memory.Tests.Sessions;

public sealed class MemorySessionContextTests
{
    [Fact]
    public async Task OpenAsync_for_a_user_on_a_manager()
    {
        await using var manager = new MemoryManager(new InMemoryBackend());
        string id;
        await using (var ctx = await MemorySessionContext.OpenAsync(userId: "alice", manager: manager, configure: m => m.MaxMessages = 7))
        {
            id = ctx.SessionId;
            Assert.Equal("alice", ctx.Metadata.UserId);
            Assert.Equal(7, ctx.Metadata.MaxMessages);
            await ctx.AddMessageAsync(new Message(MessageRole.User, "Hello"));
            await ctx.AddMessagesAsync([new Message(MessageRole.Assistant, "Hi!")]);
            Assert.Equal(2, (await ctx.GetMessagesAsync()).Count);
            Assert.Equal(2, (await ctx.GetRecentMessagesAsync()).Count);
            Assert.Equal(2, (await ctx.GetConversationContextAsync()).Count);
            var streamed = new List<Message>();
            await foreach (var m in ctx.StreamMessagesAsync())
            {
                streamed.Add(m);
            }
            Assert.Equal(["Hello", "Hi!"], streamed.Select(m => m.Content));
            await ctx.UpdateMetadataAsync(new Dictionary<string, object?> { ["topic"] = "greeting" });
            Assert.NotNull(await ctx.CreateSummaryAsync());
            Assert.Single(await ctx.GetSummariesAsync());
        }

        // A context on a caller's manager leaves the manager running.
        Assert.True(manager.Backend.IsConnected);
        await using (var again = await MemorySessionContext.OpenAsync(userId: "alice", manager: manager))
        {
            Assert.Equal(id, again.SessionId);
            Assert.Equal("greeting", again.Metadata.Metadata["topic"]!.GetValue<string>());
        }
        await using (var specific = await MemorySessionContext.OpenAsync(sessionId: id, manager: manager))
        {
            Assert.Equal(2, (await specific.GetMessagesAsync()).Count);
        }
        await using (var anonymous = await MemorySessionContext.OpenAsync(sessionId: "new-one", manager: manager))
        {
            Assert.Null(anonymous.Metadata.UserId);
            await anonymous.ArchiveSessionAsync();
            Assert.Equal(SessionStatus.Archived, anonymous.Metadata.Status);
            await anonymous.DeleteSessionAsync();
        }
        Assert.Null(await manager.GetSessionAsync("new-one"));
    }

    [Fact]
    public async Task OpenAsync_refuses_another_users_session()
    {
        await using var manager = new MemoryManager(new InMemoryBackend());
        await manager.CreateSessionAsync("alice", "s1");
        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => MemorySessionContext.OpenAsync(userId: "bob", sessionId: "s1", manager: manager));
    }

    [Fact]
    public async Task OpenAsync_with_configuration_owns_its_manager()
    {
        MemorySessionContext? seen;
        await using (var ctx = await MemorySessionContext.OpenAsync(MemoryConfiguration.FromString("development"), userId: "alice"))
        {
            seen = ctx;
            await ctx.AddMessageAsync(new Message(MessageRole.User, "Hello"));
            Assert.Single(await ctx.GetMessagesAsync());
        }
        await Assert.ThrowsAsync<BackendUnavailableException>(() => seen.GetMessagesAsync());
    }

    [Fact]
    public async Task Owned_manager_is_shut_down_even_when_the_body_throws()
    {
        MemorySessionContext? seen = null;
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await using var ctx = await MemorySessionContext.OpenAsync(MemoryConfiguration.FromString("in_memory"), userId: "alice");
            seen = ctx;
            await ctx.AddMessageAsync(new Message(MessageRole.User, "Hello"));
            throw new InvalidOperationException("body failed");
        });
        Assert.Equal("body failed", ex.Message);
        Assert.NotNull(seen);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => seen.AddMessageAsync(new Message(MessageRole.User, "late")));
        await seen.DisposeAsync();
    }

    [Fact]
    public async Task OpenAsync_with_bad_configuration_fails_cleanly()
    {
        await Assert.ThrowsAsync<MemoryConfigurationException>(() => MemorySessionContext.OpenAsync(MemoryConfiguration.FromString("nope"), userId: "alice"));
        await Assert.ThrowsAsync<ArgumentException>(() => MemorySessionContext.OpenAsync(MemoryConfiguration.FromString("in_memory"), userId: ""));
    }
}
