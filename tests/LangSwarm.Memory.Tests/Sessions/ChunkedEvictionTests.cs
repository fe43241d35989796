using Xunit;

namespace LangSwarm.Memory.Tests.Sessions;

/// <summary>
/// Eviction in chunks under the seed's defaults (max_tokens 32,000, max_messages 1,000, threshold 100): with
/// 400-token messages the token limit binds at 80 messages, and eviction down to 0.8 of it comes once per 16 adds.
/// </summary>
public sealed class ChunkedEvictionTests
{
    private sealed class CountingSummarizer : ISummarizer
    {
        public int Calls { get; private set; }

        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult($"summary {Calls}");
        }
    }

    [Theory]
    [InlineData(SummaryStrategy.Periodic)]
    [InlineData(SummaryStrategy.Rolling)]
    public async Task SeedDefaults_With400TokenMessages_SummarizeOncePerChunk_NotOncePerAdd(SummaryStrategy strategy)
    {
        const int adds = 1500;
        var counting = new CountingSummarizer();
        await using var backend = new InMemoryBackend(summarizer: counting);
        await backend.ConnectAsync();
        var seed = new SessionMetadata("seed", "u") { SummaryStrategy = strategy };
        Assert.Equal((32000, 1000, 100, 0.8), (seed.MaxTokens, seed.MaxMessages, seed.AutoSummarizeThreshold, seed.EvictionLowWater));
        var s = await backend.CreateSessionAsync(seed);

        var maxLive = 0L;
        for (var i = 0; i < adds; i++)
        {
            await s.AddMessageAsync(new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}") { TokenCount = 400 });
            await backend.WhenSummariesIdleAsync();
            var state = (await backend.FindLinkAsync("seed", CancellationToken.None))!.Handle.State;
            maxLive = Math.Max(maxLive, state.LiveTokens);
        }

        // Eviction: one chunk per 0.2 × 80 = 16 adds; periodic/rolling summaries: at most one per 100 messages.
        // Evicting just enough (the old rule) made one call per add from the 81st on: 1,420 and more.
        Assert.InRange(counting.Calls, 1, (adds / (0.2 * 80)) + (adds / 100));
        Assert.InRange(maxLive, 0, 32000);
        Assert.Equal(counting.Calls, (await s.GetSummariesAsync()).Count);
        var live = await s.GetMessagesAsync();
        Assert.InRange(live.Count, 64, 80);
    }
}
