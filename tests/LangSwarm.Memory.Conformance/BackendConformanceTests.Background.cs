using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// Automatic summaries off the write path: the summary chain, the background summarizer, its failures, its
/// obligations across a reopen, and the context's coverage rule, on every backend.
/// </summary>
public abstract partial class BackendConformanceTests
{
    /// <summary>A summarizer that waits for <see cref="Release"/> (honouring cancellation) and can be told to fail.</summary>
    protected sealed class GatedSummarizer : ISummarizer
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        /// <summary>Calls that returned a summary.</summary>
        public int Calls => Volatile.Read(ref _calls);

        /// <summary>While set, every call throws this message.</summary>
        public string? FailWith { get; set; }

        /// <summary>Lets every waiting and later call through.</summary>
        public void Release() => _gate.TrySetResult();

        /// <inheritdoc />
        public async Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            await _gate.Task.WaitAsync(cancellationToken);
            if (FailWith is { } error)
            {
                throw new InvalidOperationException(error);
            }
            var n = Interlocked.Increment(ref _calls);
            return $"summary {n}: {messages.Count} messages after [{previousSummary}]";
        }
    }

    private GatedSummarizer UseGatedSummarizer()
    {
        var gated = new GatedSummarizer();
        var b = (MemoryBackendBase)Backend;
        b.Summarizer = gated;
        b.BackgroundSummaries.RetryDelay = TimeSpan.FromMilliseconds(20);
        b.BackgroundSummaries.MaxRetryDelay = TimeSpan.FromMilliseconds(100);
        return gated;
    }

    [Fact]
    public async Task SlowSummarizer_AddsDoNotWaitForIt_NorDoOtherSessions()
    {
        var gated = UseGatedSummarizer();
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 2;
            m.MaxMessages = 4;
        });
        var other = await NewSessionAsync();
        for (var i = 0; i < 12; i++)
        {
            // The summarizer is stuck: every add still returns at once, in both sessions.
            await s.AddMessageAsync(Msg(MessageRole.User, $"turn {i}", 5)).WaitAsync(TimeSpan.FromSeconds(10));
            await other.AddMessageAsync(Msg(MessageRole.User, $"other {i}", 5)).WaitAsync(TimeSpan.FromSeconds(10));
        }
        // Nothing is evicted before the summary that covers it exists: no message leaves unsummarized.
        Assert.Equal(12, (await s.GetMessagesAsync()).Count);
        Assert.Empty(await s.GetSummariesAsync());
        var ctx = await s.GetConversationContextAsync(30);
        Assert.True(ctx.Sum(m => m.TokenCount!.Value) <= 30);
        Assert.Equal("turn 11", ctx[^1].Content);

        gated.Release();
        await IdleAsync();
        var sums = await s.GetSummariesAsync();
        Assert.NotEmpty(sums);
        Assert.Equal(12, sums[^1].LastSequence);
        Assert.InRange((await s.GetMessagesAsync()).Count, 1, 4);
        Assert.Equal(12, (await other.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task FailingSummarizer_NeverFailsOrDuplicatesAnAdd_ReportsDegraded_ThenCatchesUp()
    {
        var gated = UseGatedSummarizer();
        gated.FailWith = "the LLM is down";
        gated.Release();
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 1000;
            m.MaxMessages = 5;
        });
        for (var i = 0; i < 10; i++)
        {
            await s.AddMessageAsync(Msg(MessageRole.User, $"turn {i}", 5));
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"turn {i}"), (await s.GetMessagesAsync()).Select(m => m.Content));

        var deadline = DateTime.UtcNow.AddSeconds(20);
        HealthReport health;
        while ((health = await Backend.HealthCheckAsync()).Status != HealthStatus.Degraded)
        {
            Assert.True(DateTime.UtcNow < deadline, $"health stayed {health.Status}");
            await Task.Delay(20);
        }
        Assert.Contains("the LLM is down", health.LastError, StringComparison.Ordinal);
        Assert.Empty(await s.GetSummariesAsync());

        gated.FailWith = null;
        await IdleAsync();
        Assert.Equal(HealthStatus.Healthy, (await Backend.HealthCheckAsync()).Status);
        var sums = await s.GetSummariesAsync();
        Assert.Equal((1L, 10L), (sums[^1].FirstSequence, sums[^1].LastSequence));
        var live = await s.GetMessagesAsync();
        Assert.InRange(live.Count, 1, 5);
        Assert.Equal("turn 9", live[^1].Content);
    }

    [Fact]
    public async Task RollingWithEviction_OneChainCoversTheWholeHistory_AndTheContextNeverRepeatsIt()
    {
        var counting = UseCountingSummarizer();
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Rolling;
            m.AutoSummarizeThreshold = 10;
            m.MaxMessages = 20;
        });
        await s.AddMessageAsync(Msg(MessageRole.System, "rules", 5));
        for (var i = 0; i < 100; i++)
        {
            await AddAndSettleAsync(s, Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}", 10));
        }
        var sums = await s.GetSummariesAsync();
        Assert.Equal(counting.Calls, sums.Count);
        Assert.InRange(sums.Count, 100 / 20, 100 / 10);
        Assert.All(sums, x => Assert.Equal(2, x.FirstSequence));
        Assert.All(sums, x => Assert.Equal(x.LastSequence - 1, x.MessageCount));
        Assert.Equal(sums.Select(x => x.LastSequence).Order(), sums.Select(x => x.LastSequence));
        // Nothing left the window uncovered: the newest summary reaches past every evicted message.
        var live = await s.GetMessagesAsync();
        Assert.InRange(live.Count, 2, 20);
        Assert.True(sums[^1].LastSequence >= live[1].Sequence - 1);

        foreach (var budget in new[] { 60, 100, 150, 1000 })
        {
            var ctx = await s.GetConversationContextAsync(budget);
            Assert.True(ctx.Sum(m => m.TokenCount!.Value) <= budget, $"budget {budget}");
            Assert.Equal("rules", ctx[0].Content);
            Assert.Equal("turn 99", ctx[^1].Content);
            var summary = sums.Single(x => x.SummaryId == ctx[1].Metadata["summary_id"]!.GetValue<string>());
            var window = ctx.Skip(2).ToList();
            Assert.True(window[0].Sequence > summary.LastSequence, $"budget {budget}: window repeats the summary");
            Assert.True(window[0].Sequence - summary.LastSequence - 1 <= 10, $"budget {budget}: gap after the summary");
        }
    }

    [Fact]
    public async Task SeedDefaults_LongConversation_ChunkedSummaries_ContextWithinBudget()
    {
        var counting = UseCountingSummarizer();
        var s = await Backend.CreateSessionAsync(new SessionMetadata("seed-" + Guid.NewGuid().ToString("N")[..8], "user-1"));
        Assert.Equal((1000, 32000, 100, SummaryStrategy.Periodic), (s.Metadata.MaxMessages, s.Metadata.MaxTokens, s.Metadata.AutoSummarizeThreshold, s.Metadata.SummaryStrategy));
        await s.AddMessageAsync(Msg(MessageRole.System, "You are a travel agent.", 10));
        var batch = new List<Message>();
        for (var i = 0; i < 300; i++)
        {
            batch.Add(Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}", 400));
            if (batch.Count == 10)
            {
                await s.AddMessagesAsync(batch);
                batch.Clear();
                await IdleAsync();
            }
        }
        // 32,000 tokens hold 80 messages of 400; chunks of 20% of that: at most one call per 16 adds.
        Assert.InRange(counting.Calls, 2, 300 / 16);
        var live = await s.GetMessagesAsync();
        Assert.InRange(live.Count - 1, 60, 80);
        var sums = await s.GetSummariesAsync();
        foreach (var budget in new[] { 8000, 4000 })
        {
            var ctx = await s.GetConversationContextAsync(budget);
            Assert.True(ctx.Sum(m => m.TokenCount!.Value) <= budget);
            Assert.Equal("You are a travel agent.", ctx[0].Content);
            var summary = sums.Single(x => x.SummaryId == ctx[1].Metadata["summary_id"]!.GetValue<string>());
            Assert.True(ctx[2].Sequence > summary.LastSequence);
            Assert.InRange(ctx[2].Sequence - summary.LastSequence - 1, 0, 100);
            Assert.Equal("turn 299", ctx[^1].Content);
        }
    }

    [Fact]
    public async Task OwedSummaries_SurviveADisconnect_AndAreMadeAfterReopen()
    {
        UseGatedSummarizer();
        var s = await NewSessionAsync(id: "owed", configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 3;
        });
        for (var i = 0; i < 5; i++)
        {
            await s.AddMessageAsync(Msg(MessageRole.User, $"turn {i}", 5));
        }
        // The summarizer never answers; the disconnect cancels it and the obligation stays in the stored state.
        ((MemoryBackendBase)Backend).Summarizer = new CountingSummarizer();
        await ReopenBackendAsync();
        await IdleAsync();
        var again = (await Backend.GetSessionAsync("owed"))!;
        // The chain grows a threshold (3) at a time: 1-3 is owed; 4-5 wait for the sixth message.
        var sums = await again.GetSummariesAsync();
        Assert.Equal((1L, 3L), (sums.Single().FirstSequence, sums.Single().LastSequence));
    }
}
