using Xunit;

namespace LangSwarm.Memory.Conformance;

/// <summary>
/// Eviction in chunks: once a limit is passed, the oldest non-system blocks leave down to the low-water mark
/// (<see cref="SessionMetadata.EvictionLowWater"/>), so eviction and its one summary happen once per chunk of adds.
/// </summary>
public abstract partial class BackendConformanceTests
{
    /// <summary>Counts summarizer calls and answers with a short fixed text.</summary>
    protected sealed class CountingSummarizer : ISummarizer
    {
        /// <summary>Calls so far.</summary>
        public int Calls { get; private set; }

        /// <summary>Messages handed over in all calls.</summary>
        public int Messages { get; private set; }

        /// <inheritdoc />
        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            Calls++;
            Messages += messages.Count;
            return Task.FromResult($"summary {Calls} of {messages.Count} messages");
        }
    }

    /// <summary>Plugs a fresh <see cref="CountingSummarizer"/> into the backend under test.</summary>
    protected CountingSummarizer UseCountingSummarizer()
    {
        var counting = new CountingSummarizer();
        ((MemoryBackendBase)Backend).Summarizer = counting;
        return counting;
    }

    /// <summary>A session that summarizes only what eviction takes (periodic, threshold far away).</summary>
    private Task<IMemorySession> EvictingSessionAsync(Action<SessionMetadata> limits) =>
        NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 100_000;
            limits(m);
        });

    [Fact]
    public async Task MaxMessages_EvictsInChunks_DownToTheLowWaterMark_OneSummaryPerChunk()
    {
        var counting = UseCountingSummarizer();
        var s = await EvictingSessionAsync(m => m.MaxMessages = 10);
        await s.AddMessageAsync(Msg(MessageRole.System, "rules", 5));
        var evictions = 0;
        for (var i = 0; i < 100; i++)
        {
            var before = counting.Calls;
            await AddAndSettleAsync(s, Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}", 5));
            var live = await s.GetMessagesAsync();
            Assert.InRange(live.Count, 1, 10);
            Assert.Equal("rules", live[0].Content);
            if (counting.Calls > before)
            {
                Assert.Equal(before + 1, counting.Calls);
                Assert.InRange(live.Count, 1, 8);
                evictions++;
            }
        }
        // Per-add eviction made 91 calls here (one per add from the 11th message on); down to 8 of 10 it is at
        // most one call per 3 adds, and fewer: a summary reaches to the newest message, so the next chunks leave
        // already covered.
        Assert.InRange(counting.Calls, 1, 100 / (10 - 8));
        Assert.Equal(evictions, counting.Calls);
        var sums = await s.GetSummariesAsync();
        Assert.Equal(counting.Calls, sums.Count);
        // One running chain: each summary covers the conversation from its start to the summary's end.
        Assert.All(sums, x => Assert.Equal(2, x.FirstSequence));
        Assert.Equal(sums.Select(x => x.LastSequence - 1), sums.Select(x => (long)x.MessageCount));
        Assert.True(sums[^1].LastSequence >= 101 - (await s.GetMessagesAsync()).Count + 1);
    }

    [Fact]
    public async Task MaxTokens_EvictsInChunks_DownToTheLowWaterMark_OneSummaryPerChunk()
    {
        // The seed's 32,000 tokens scaled down ten-fold... and further to 4,000: ten 400-token messages.
        var counting = UseCountingSummarizer();
        var s = await EvictingSessionAsync(m => m.MaxTokens = 4000);
        for (var i = 0; i < 100; i++)
        {
            var before = counting.Calls;
            await AddAndSettleAsync(s, Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"long turn {i}", 400));
            var live = await s.GetMessagesAsync();
            var tokens = live.Sum(m => m.TokenCount ?? 0);
            Assert.InRange(tokens, 400, 4000);
            if (counting.Calls > before)
            {
                Assert.InRange(tokens, 400, 3200);
            }
        }
        Assert.InRange(counting.Calls, 1, 100 / (10 - 8));
        Assert.Equal(counting.Calls, (await s.GetSummariesAsync()).Count);
    }

    [Fact]
    public async Task ChunkedEviction_KeepsSystemMessages_AndNeverSplitsACallBlock()
    {
        var counting = UseCountingSummarizer();
        var s = await EvictingSessionAsync(m => m.MaxMessages = 20);
        await s.AddMessageAsync(Msg(MessageRole.System, "rules", 5));
        var added = new Dictionary<long, Message>();
        for (var i = 0; i < 25; i++)
        {
            var ask = Msg(MessageRole.User, $"ask {i}", 5);
            await s.AddMessageAsync(ask);
            Message[] block = [ToolCall($"call_{i}", tokens: 5), ToolResult($"call_{i}", $"result {i}", 5), ToolResult($"call_{i}", $"more {i}", 5)];
            await s.AddMessagesAsync(block);
            await IdleAsync();
            foreach (var m in block.Prepend(ask))
            {
                added[m.Sequence] = m;
            }
            if (i % 5 == 0)
            {
                await AddAndSettleAsync(s, Msg(MessageRole.System, $"note {i}", 5));
            }
            var live = await s.GetMessagesAsync();
            Assert.Equal("rules", live[0].Content);
            Assert.Equal((i / 5) + 2, live.Count(m => m.Role == MessageRole.System));
            Assert.InRange(live.Count, 1, 20);
            var rest = live.Where(m => m.Role != MessageRole.System).ToList();
            Assert.NotEqual(MessageRole.Tool, rest[0].Role);
            for (var k = 0; k < rest.Count; k++)
            {
                if (rest[k].HasCalls)
                {
                    // The call and both its results are live together.
                    Assert.Equal(MessageRole.Tool, rest[k + 1].Role);
                    Assert.Equal(MessageRole.Tool, rest[k + 2].Role);
                }
            }
        }
        // 106 messages through a window of 20: a handful of chunks, each of whole blocks: no summarized
        // chunk ends with a call or begins with a result.
        Assert.InRange(counting.Calls, 1, 106 / (20 - 16));
        Assert.All(await s.GetSummariesAsync(), x =>
        {
            Assert.False(added.TryGetValue(x.LastSequence, out var last) && last.HasCalls);
            Assert.NotEqual(MessageRole.Tool, added[x.FirstSequence].Role);
        });
    }

    [Fact]
    public async Task LowWaterOfOne_EvictsJustEnough_AndSummariesReachTheNewestMessage()
    {
        var counting = UseCountingSummarizer();
        var s = await EvictingSessionAsync(m =>
        {
            m.MaxMessages = 10;
            m.EvictionLowWater = 1.0;
        });
        for (var i = 0; i < 20; i++)
        {
            await AddAndSettleAsync(s, Msg(MessageRole.User, $"turn {i}", 5));
        }
        // Each summary reaches to the newest message, so the next ten one-message evictions need none.
        Assert.Equal(1, counting.Calls);
        Assert.Equal((1L, 11L), (await s.GetSummariesAsync()).Select(x => (x.FirstSequence, x.LastSequence)).Single());
        Assert.Equal(10, (await s.GetMessagesAsync()).Count);
    }

    [Fact]
    public async Task EvictionLowWater_DefaultsTo08_RoundTrips_AndIsUpdatable()
    {
        Assert.Equal(0.8, new SessionMetadata().EvictionLowWater);
        var fresh = await NewSessionAsync(id: "lw-default");
        var set = await NewSessionAsync(id: "lw-set", configure: m => m.EvictionLowWater = 0.55);
        var updated = await NewSessionAsync(id: "lw-updated");
        await updated.UpdateMetadataAsync(new Dictionary<string, object?> { ["eviction_low_water"] = 0.6 });
        Assert.Equal(0.6, updated.Metadata.EvictionLowWater);
        await updated.UpdateMetadataAsync(new Dictionary<string, object?> { ["EvictionLowWater"] = "1" });
        Assert.Equal(1.0, updated.Metadata.EvictionLowWater);

        await ReopenBackendAsync();
        Assert.Equal(0.8, (await Backend.GetSessionAsync("lw-default"))!.Metadata.EvictionLowWater);
        Assert.Equal(0.55, (await Backend.GetSessionAsync("lw-set"))!.Metadata.EvictionLowWater);
        Assert.Equal(1.0, (await Backend.GetSessionAsync("lw-updated"))!.Metadata.EvictionLowWater);
        Assert.Contains(await Backend.ListSessionsAsync(), m => m.SessionId == "lw-set" && m.EvictionLowWater == 0.55);
        _ = fresh;
        _ = set;
    }

    public static TheoryData<double> BadLowWater => [0.0, -0.5, 1.0000001, 2.0, double.NaN, double.PositiveInfinity];

    [Theory]
    [MemberData(nameof(BadLowWater))]
    public async Task EvictionLowWater_OutsideZeroToOne_IsRejected_OnCreateAndUpdate(double value)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Backend.CreateSessionAsync(new SessionMetadata("lw-bad", "u") { EvictionLowWater = value }));
        Assert.Null(await Backend.GetSessionAsync("lw-bad"));

        var s = await NewSessionAsync(id: "lw-keep", configure: m => m.EvictionLowWater = 0.7);
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["eviction_low_water"] = value, ["max_messages"] = 3 }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["eviction_low_water"] = "not a number" }));
        var back = (await Backend.GetSessionAsync("lw-keep"))!.Metadata;
        Assert.Equal(0.7, back.EvictionLowWater);
        Assert.Equal(1000, back.MaxMessages);
    }
}
