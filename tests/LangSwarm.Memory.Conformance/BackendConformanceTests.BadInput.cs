using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    public static TheoryData<string> PathLikeIds => new()
    {
        "../../etc/passwd",
        "a/b/c",
        "..",
        ".",
        "C:\\Windows\\system32",
        "con",
        "name with spaces and ünïcødé 🌍",
        "*?<>|\"",
    };

    [Theory]
    [MemberData(nameof(PathLikeIds))]
    public async Task PathLikeSessionIds_AreJustIds(string id)
    {
        var s = await NewSessionAsync(id: id);
        await s.AddMessageAsync(Msg(MessageRole.User, "safe"));
        var got = await Backend.GetSessionAsync(id);
        Assert.Equal(id, got!.SessionId);
        Assert.Equal("safe", (await got.GetMessagesAsync()).Single().Content);
        Assert.Contains(await Backend.ListSessionsAsync(), m => m.SessionId == id);
        Assert.True(await Backend.DeleteSessionAsync(id));
    }

    [Fact]
    public async Task BadIds_AreRejected_WithArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("", "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("   ", "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("nul\0id", "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata(new string('x', 10 * 1024), "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("bad\uD800surrogate", "u")));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("ok-id", "user\0")));
        await Assert.ThrowsAsync<ArgumentNullException>(() => Backend.CreateSessionAsync(null!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Backend.GetSessionAsync(null!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Backend.DeleteSessionAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lim", "u") { MaxMessages = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lim", "u") { MaxTokens = -1 }));
        Assert.Empty(await Backend.ListSessionsAsync());
    }

    [Fact]
    public async Task BadMessages_AreRejected_AndStoredDataStaysIntact()
    {
        var s = await NewSessionAsync();
        var good = Msg(MessageRole.User, "precious");
        await s.AddMessageAsync(good);

        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(null!));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message((MessageRole)99, "unknown role")));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, string.Empty)));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, null!)));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, new string('a', MessageValidator.MaxContentLength + 1))));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, "broken \uDC00 text")));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, "x") { MessageId = "" }));
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessageAsync(new Message(MessageRole.User, "x") { TokenCount = -3 }));
        // A batch with one bad message stores none of it.
        await Assert.ThrowsAsync<InvalidMessageException>(() => s.AddMessagesAsync([Msg(MessageRole.User, "ok"), new Message(MessageRole.User, "")]));
        Assert.Throws<InvalidMessageException>(() => MessageRoles.Parse("wizard"));

        var got = await s.GetMessagesAsync();
        AssertSameMessage(good, Assert.Single(got));
    }

    [Fact]
    public async Task LargestAllowedContent_RoundTrips()
    {
        var s = await NewSessionAsync();
        var rnd = new Random(7);
        var text = new string(Enumerable.Range(0, 300_000).Select(_ => (char)rnd.Next(32, 0xD7FF)).ToArray());
        var big = Msg(MessageRole.Assistant, text, 1);
        await s.AddMessageAsync(big);
        Assert.Equal(text, (await s.GetMessagesAsync()).Single().Content);
    }
}
