using Xunit;

namespace LangSwarm.Memory.Tests;

/// <summary>Replacing a session through <see cref="SessionTransfer"/> never loses the session that was there.</summary>
public sealed class SessionTransferReplaceTests
{
    [Fact]
    public async Task Replace_ThatFailsPartWay_PutsTheOldSessionBack()
    {
        var store = new FlakyStore(new InMemorySessionStore());
        await using var backend = new FlakyBackend(store);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("x", "u") { SummaryStrategy = SummaryStrategy.Manual });
        await s.AddMessageAsync(new Message(MessageRole.User, "old one"));
        await s.AddMessageAsync(new Message(MessageRole.Assistant, "old two"));
        var old = (await SessionTransfer.ReadAsync(backend, "x"))!;

        var messages = new List<Message>
        {
            new(MessageRole.User, "new one") { Sequence = 1 },
            new(MessageRole.Assistant, "new two") { Sequence = 2 },
            new(MessageRole.User, "new three") { Sequence = 3 },
        };
        var summary = new ConversationSummary { SessionId = "x", SummaryText = "the new conversation so far", SummaryType = SummaryType.Manual, FirstSequence = 1, LastSequence = 2, MessageCount = 2 };
        var replacement = new PortableSession(old.Metadata.Clone(), 3, 2, messages, [summary]);
        store.FailSummaries = true; // the store fails after the new messages are in

        await Assert.ThrowsAsync<BackendUnavailableException>(() => SessionTransfer.WriteAsync(backend, replacement, replace: true));

        store.FailSummaries = false;
        var back = (await SessionTransfer.ReadAsync(backend, "x"))!;
        Assert.Equal(old.Messages.Select(m => (m.Sequence, m.MessageId, m.Content)), back.Messages.Select(m => (m.Sequence, m.MessageId, m.Content)));
        Assert.Equal(old.LastSequence, back.LastSequence);
        Assert.Empty(back.Summaries);

        // The same replacement goes through once the store works.
        await SessionTransfer.WriteAsync(backend, replacement, replace: true);
        var replaced = (await SessionTransfer.ReadAsync(backend, "x"))!;
        Assert.Equal(["new one", "new two", "new three"], replaced.Messages.Select(m => m.Content));
        Assert.Single(replaced.Summaries);
    }

    private sealed class FlakyBackend(ISessionStore store) : MemoryBackendBase(store)
    {
        public override string Name => "flaky";
    }

    /// <summary>The in-memory store, whose session handles fail to add a summary while <see cref="FailSummaries"/> is set.</summary>
    private sealed class FlakyStore(ISessionStore inner) : ISessionStore
    {
        public bool FailSummaries { get; set; }

        public Task OpenAsync(CancellationToken cancellationToken) => inner.OpenAsync(cancellationToken);

        public Task CloseAsync(CancellationToken cancellationToken) => inner.CloseAsync(cancellationToken);

        public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) => inner.ProbeAsync(cancellationToken);

        public async Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken) =>
            Wrap(await inner.CreateSessionAsync(metadata, cancellationToken));

        public async Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken) =>
            Wrap(await inner.OpenSessionAsync(sessionId, cancellationToken));

        public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) => inner.QuerySessionsAsync(query, cancellationToken);

        public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) => inner.RemoveSessionAsync(sessionId, cancellationToken);

        public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken) =>
            inner.FindSessionsUpdatedBeforeAsync(cutoff, status, cancellationToken);

        public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) => inner.ComputeUsageStatsAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private FlakyHandle? Wrap(ISessionHandle? handle) => handle is null ? null : new FlakyHandle(handle, this);
    }

    private sealed class FlakyHandle(ISessionHandle inner, FlakyStore store) : ISessionHandle
    {
        public string SessionId => inner.SessionId;

        public SessionSnapshot State => inner.State;

        public Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken) => inner.RefreshAsync(cancellationToken);

        public Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken) =>
            inner.AppendAsync(messages, updatedAt, cancellationToken);

        public Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken) => inner.EvictAsync(sequences, cancellationToken);

        public Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken) =>
            store.FailSummaries ? throw new BackendUnavailableException("the store went away") : inner.AddSummaryAsync(summary, cancellationToken);

        public Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken) =>
            inner.SaveAsync(metadata, lastSequence, summarizedThrough, cancellationToken);

        public IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, CancellationToken cancellationToken) => inner.ReadMessagesAsync(query, cancellationToken);

        public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
            inner.ReadNewestMessagesAsync(query, limit, cancellationToken);

        public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken) => inner.ReadMessageInfosAsync(cancellationToken);

        public Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
            inner.ReadNewestMessageInfosAsync(query, limit, cancellationToken);

        public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken) => inner.ReadSummariesAsync(cancellationToken);
    }
}
