using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// Ownership: the calls with a user id never return, change or delete another user's session. Another user's
/// session answers exactly as a session that does not exist (null / false), and a bad user id is an
/// <see cref="ArgumentException"/> before anything is read or written.
/// </summary>
public abstract partial class BackendConformanceTests
{
    /// <summary>
    /// User ids every owner-scoped call refuses: null, empty, blank, control characters, too long, invalid UTF-16.
    /// By name, since a test runner may not carry a lone surrogate through unchanged.
    /// </summary>
    private static readonly Dictionary<string, string?> BadUserIdCases = new()
    {
        ["null"] = null,
        ["empty"] = "",
        ["blank"] = "   ",
        ["nul"] = "user\0",
        ["tab"] = "tab\tuser",
        ["too-long"] = new string('u', 10 * 1024),
        ["lone-surrogate"] = "bad\uD800surrogate",
    };

    /// <summary>The names of <see cref="BadUserIdCases"/>.</summary>
    public static TheoryData<string> BadUserIds => new(BadUserIdCases.Keys);

    /// <summary>Ids close to <c>alice</c> (case, prefix, padding) and ones a key or pattern syntax could misread.</summary>
    private static readonly string[] NearOwners = ["Alice", "ALICE", "alic", "alice2", "alice ", " alice", "alice*", "al*", "*", "?lice", "[a]lice", "alice:x", "alice}", "{alice}", "alice/..", "%"];

    /// <summary>Alice's session with three messages and a summary, for the tests to leave intact.</summary>
    private async Task<IMemorySession> AliceSessionAsync(string? id = null)
    {
        var s = await NewSessionAsync(userId: "alice", id: id);
        await s.AddMessagesAsync([Msg(MessageRole.User, "one"), Msg(MessageRole.Assistant, "two"), Msg(MessageRole.User, "three")]);
        await s.CreateSummaryAsync();
        return s;
    }

    /// <summary>The session's activity time as the store holds it.</summary>
    private async Task<DateTimeOffset> StoredUpdatedAtAsync(string id) => (await Backend.GetSessionAsync(id))!.Metadata.UpdatedAt;

    /// <summary>Asserts Alice's session is as <see cref="AliceSessionAsync"/> left it: owner, status, activity time, messages, summary.</summary>
    private async Task AssertAliceIntactAsync(string id, DateTimeOffset updatedAt)
    {
        var again = await Backend.GetSessionAsync(id);
        Assert.NotNull(again);
        Assert.Equal("alice", again.Metadata.UserId);
        Assert.Equal(SessionStatus.Active, again.Metadata.Status);
        Assert.Equal(updatedAt.UtcTicks, again.Metadata.UpdatedAt.UtcTicks);
        Assert.Equal(["one", "two", "three"], (await again.GetMessagesAsync()).Select(m => m.Content));
        Assert.Single(await again.GetSummariesAsync());
    }

    [Fact]
    public async Task Ownership_GetByAnotherUser_IsNull_LikeAMissingSession()
    {
        var s = await AliceSessionAsync();
        var updated = await StoredUpdatedAtAsync(s.SessionId);
        var anonymous = await NewSessionAsync(userId: null);

        Assert.Null(await Backend.GetSessionAsync(s.SessionId, "bob"));
        foreach (var near in NearOwners)
        {
            Assert.Null(await Backend.GetSessionAsync(s.SessionId, near));
        }
        // The answer for another user's session is the answer for no session at all.
        Assert.Null(await Backend.GetSessionAsync("own-no-such-session", "bob"));
        Assert.Null(await Backend.GetSessionAsync("own-no-such-session", "alice"));
        // A session without an owner is no user's.
        Assert.Null(await Backend.GetSessionAsync(anonymous.SessionId, "alice"));

        var mine = await Backend.GetSessionAsync(s.SessionId, "alice");
        Assert.NotNull(mine);
        Assert.Equal(s.SessionId, mine.SessionId);
        Assert.Equal(["one", "two", "three"], (await mine.GetMessagesAsync()).Select(m => m.Content));
        await AssertAliceIntactAsync(s.SessionId, updated);

        // The session found by its owner is a full session: writes work and are seen by every other handle.
        await mine.AddMessageAsync(Msg(MessageRole.Assistant, "four"));
        Assert.Equal(4, (await s.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task Ownership_DeleteByAnotherUser_ReturnsFalse_AndDeletesNothing()
    {
        var s = await AliceSessionAsync();
        var updated = await StoredUpdatedAtAsync(s.SessionId);
        var anonymous = await NewSessionAsync(userId: null);

        Assert.False(await Backend.DeleteSessionAsync(s.SessionId, "bob"));
        foreach (var near in NearOwners)
        {
            Assert.False(await Backend.DeleteSessionAsync(s.SessionId, near));
        }
        Assert.False(await Backend.DeleteSessionAsync("own-no-such-session", "bob"));
        Assert.False(await Backend.DeleteSessionAsync(anonymous.SessionId, "alice"));
        Assert.NotNull(await Backend.GetSessionAsync(anonymous.SessionId));
        await AssertAliceIntactAsync(s.SessionId, updated);
        Assert.Equal(3, (await Backend.GetUsageStatsAsync()).TotalMessages);

        Assert.True(await Backend.DeleteSessionAsync(s.SessionId, "alice"));
        Assert.Null(await Backend.GetSessionAsync(s.SessionId));
        Assert.False(await Backend.DeleteSessionAsync(s.SessionId, "alice"));
        Assert.Equal(0, (await Backend.GetUsageStatsAsync()).TotalMessages);
    }

    [Fact]
    public async Task Ownership_ArchiveByAnotherUser_ReturnsFalse_AndChangesNothing()
    {
        var s = await AliceSessionAsync();
        var updated = await StoredUpdatedAtAsync(s.SessionId);

        Assert.False(await Backend.ArchiveSessionAsync(s.SessionId, "bob"));
        foreach (var near in NearOwners)
        {
            Assert.False(await Backend.ArchiveSessionAsync(s.SessionId, near));
        }
        Assert.False(await Backend.ArchiveSessionAsync("own-no-such-session", "alice"));
        Assert.Null(await Backend.GetSessionAsync("own-no-such-session"));
        await AssertAliceIntactAsync(s.SessionId, updated);
        Assert.Empty(await Backend.ListSessionsAsync(status: SessionStatus.Archived));

        Assert.True(await Backend.ArchiveSessionAsync(s.SessionId, "alice"));
        Assert.Equal(SessionStatus.Archived, (await Backend.GetSessionAsync(s.SessionId))!.Metadata.Status);
        Assert.True(await Backend.ArchiveSessionAsync(s.SessionId, "alice"));
        await Assert.ThrowsAsync<SessionArchivedException>(() => s.AddMessageAsync(Msg(MessageRole.User, "late")));
        Assert.Equal(3, (await s.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task Ownership_ListingByUser_NeverShowsAnotherUsersSession()
    {
        var owners = NearOwners.Append("alice").Append("bob").ToArray();
        foreach (var owner in owners)
        {
            await NewSessionAsync(userId: owner, id: "own-list-" + Array.IndexOf(owners, owner));
        }
        var archived = await NewSessionAsync(userId: "alice", id: "own-list-archived");
        await archived.ArchiveSessionAsync();
        await NewSessionAsync(userId: null, id: "own-list-anonymous");

        foreach (var owner in owners)
        {
            var expected = owner == "alice" ? new[] { "own-list-" + Array.IndexOf(owners, owner), "own-list-archived" } : ["own-list-" + Array.IndexOf(owners, owner)];
            var listed = await Backend.ListSessionsAsync(owner);
            Assert.Equal(expected.Order(StringComparer.Ordinal), listed.Select(m => m.SessionId).Order(StringComparer.Ordinal));
            Assert.All(listed, m => Assert.Equal(owner, m.UserId));
            Assert.All(await Backend.ListSessionsAsync(owner, SessionStatus.Active), m => Assert.Equal(owner, m.UserId));
            Assert.All(await Backend.ListSessionsAsync(owner, SessionStatus.Archived), m => Assert.Equal(owner, m.UserId));
        }
        Assert.Equal(["own-list-archived"], (await Backend.ListSessionsAsync("alice", SessionStatus.Archived)).Select(m => m.SessionId));
        Assert.Empty(await Backend.ListSessionsAsync("carol"));
        // Unscoped, the listing is everyone's (the single-user call).
        Assert.Equal(owners.Length + 2, (await Backend.ListSessionsAsync(limit: 1000)).Count);
    }

    [Theory]
    [MemberData(nameof(BadUserIds))]
    public async Task Ownership_BadUserIds_ThrowArgumentException_AndWriteNothing(string badCase)
    {
        var userId = BadUserIdCases[badCase];
        var s = await AliceSessionAsync();
        var updated = await StoredUpdatedAtAsync(s.SessionId);
        var before = await Backend.GetUsageStatsAsync();
        var manager = CreateManager();

        await Assert.ThrowsAsync<ArgumentException>(() => Backend.GetSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.DeleteSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.ArchiveSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.ListSessionsAsync(userId ?? "\0"));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.GetSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.DeleteSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.ArchiveSessionAsync(s.SessionId, userId!));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.ListSessionsAsync(userId!));
        // A bad session id is refused the same way, with a good user id.
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.DeleteSessionAsync("", "alice"));
        await Assert.ThrowsAsync<ArgumentException>(() => manager.ArchiveSessionAsync("bad\0id", "alice"));

        await AssertAliceIntactAsync(s.SessionId, updated);
        var after = await Backend.GetUsageStatsAsync();
        Assert.Equal(before.TotalSessions, after.TotalSessions);
        Assert.Equal(before.TotalMessages, after.TotalMessages);
        Assert.Equal(before.ArchivedSessions, after.ArchivedSessions);
    }

    [Fact]
    public async Task Ownership_SessionFoundByItsOwner_NeverReachesTheNextOwnerOfItsId()
    {
        var s = await AliceSessionAsync(id: "own-reused");
        var mine = await Backend.GetSessionAsync(s.SessionId, "alice");
        Assert.NotNull(mine);

        // The id is freed and taken by Bob's session.
        Assert.True(await Backend.DeleteSessionAsync(s.SessionId));
        var bobs = await NewSessionAsync(userId: "bob", id: "own-reused");
        await bobs.AddMessageAsync(Msg(MessageRole.User, "bob's"));
        var bobsUpdated = await StoredUpdatedAtAsync("own-reused");

        await Assert.ThrowsAsync<SessionNotFoundException>(() => mine.GetMessagesAsync());
        await Assert.ThrowsAsync<SessionNotFoundException>(() => mine.AddMessageAsync(Msg(MessageRole.User, "alice's")));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => mine.ArchiveSessionAsync());
        await Assert.ThrowsAsync<SessionNotFoundException>(() => mine.UpdateMetadataAsync(new Dictionary<string, object?> { ["k"] = "v" }));
        await Assert.ThrowsAsync<SessionNotFoundException>(() => mine.DeleteSessionAsync());
        Assert.False(await Backend.ArchiveSessionAsync("own-reused", "alice"));
        Assert.False(await Backend.DeleteSessionAsync("own-reused", "alice"));

        var after = await Backend.GetSessionAsync("own-reused", "bob");
        Assert.NotNull(after);
        Assert.Equal(SessionStatus.Active, after.Metadata.Status);
        Assert.Equal(bobsUpdated.UtcTicks, after.Metadata.UpdatedAt.UtcTicks);
        Assert.False(after.Metadata.Metadata.ContainsKey("k"));
        Assert.Equal(["bob's"], (await after.GetMessagesAsync()).Select(m => m.Content));
    }

    [Fact]
    public async Task Ownership_OwnerScopedDelete_RacingAReuseOfTheId_NeverDeletesTheNewOwnersSession()
    {
        for (var round = 0; round < 25; round++)
        {
            var id = $"own-race-{round}";
            await NewSessionAsync(userId: "alice", id: id);
            var scoped = Task.Run(() => Backend.DeleteSessionAsync(id, "alice"));
            var reuse = Task.Run(async () =>
            {
                await Backend.DeleteSessionAsync(id);
                await Backend.CreateSessionAsync(new SessionMetadata(id, "bob") { SummaryStrategy = SummaryStrategy.Manual });
            });
            await Task.WhenAll(scoped, reuse);
            var left = await Backend.GetSessionAsync(id);
            Assert.NotNull(left);
            Assert.Equal("bob", left.Metadata.UserId);
        }
    }

    [Fact]
    public async Task Ownership_ThroughTheManager()
    {
        var manager = CreateManager();
        var s = await manager.CreateSessionAsync("alice", "own-mgr");
        await s.AddMessagesAsync([Msg(MessageRole.User, "hi"), Msg(MessageRole.Assistant, "hello")]);
        await manager.CreateSessionAsync("bob", "own-mgr-bob");
        var updated = await StoredUpdatedAtAsync("own-mgr");

        Assert.Null(await manager.GetSessionAsync("own-mgr", "bob"));
        Assert.Null(await manager.GetSessionAsync("own-mgr-none", "bob"));
        Assert.False(await manager.ArchiveSessionAsync("own-mgr", "bob"));
        Assert.False(await manager.DeleteSessionAsync("own-mgr", "bob"));
        Assert.Equal(["own-mgr-bob"], (await manager.ListSessionsAsync("bob")).Select(m => m.SessionId));
        Assert.Equal(["own-mgr"], (await manager.ListSessionsAsync("alice", SessionStatus.Active)).Select(m => m.SessionId));
        var intact = await Backend.GetSessionAsync("own-mgr");
        Assert.Equal(SessionStatus.Active, intact!.Metadata.Status);
        Assert.Equal(updated.UtcTicks, intact.Metadata.UpdatedAt.UtcTicks);
        Assert.Equal(["hi", "hello"], (await intact.GetMessagesAsync()).Select(m => m.Content));

        var mine = await manager.GetSessionAsync("own-mgr", "alice");
        Assert.Equal(2, (await mine!.GetMessagesAsync()).Count);
        Assert.True(await manager.ArchiveSessionAsync("own-mgr", "alice"));
        Assert.Equal(["own-mgr"], (await manager.ListSessionsAsync("alice", SessionStatus.Archived)).Select(m => m.SessionId));
        Assert.Empty(await manager.ListSessionsAsync("alice", SessionStatus.Active));
        // An archived session is not the user's conversation any more: GetOrCreate starts a new one.
        Assert.NotEqual("own-mgr", (await manager.GetOrCreateSessionAsync("alice")).SessionId);
        Assert.True(await manager.DeleteSessionAsync("own-mgr", "alice"));
        Assert.Null(await manager.GetSessionAsync("own-mgr", "alice"));
        Assert.NotNull(await manager.GetSessionAsync("own-mgr-bob", "bob"));
    }
}
