using Xunit;

namespace LangSwarm.Memory.Tests.Sessions;

/// <summary>The README's example of a long conversation, exactly as it describes it.</summary>
public sealed class ReadmeExampleTests
{
    private sealed class ShortSummarizer : ISummarizer
    {
        public int Calls { get; private set; }

        public Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
        {
            Calls++;
            return Task.FromResult($"Summary {Calls}.");
        }
    }

    [Fact]
    public async Task ThreeHundredAdds_WithTheSeedDefaults_HoldWhatTheReadmeSays()
    {
        var summarizer = new ShortSummarizer();
        await using var backend = new InMemoryBackend(summarizer: summarizer);
        await backend.ConnectAsync();
        var s = await backend.CreateSessionAsync(new SessionMetadata("readme", "user_123"));
        await s.AddMessageAsync(new Message(MessageRole.System, "You are a travel agent.") { TokenCount = 10 });
        for (var i = 0; i < 300; i++)
        {
            await s.AddMessageAsync(new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}") { TokenCount = 400 });
            await backend.WhenSummariesIdleAsync();
        }

        Assert.Equal(4, summarizer.Calls);
        var sums = await s.GetSummariesAsync();
        Assert.Equal([(2L, 81L), (2L, 149L), (2L, 217L), (2L, 285L)], sums.Select(x => (x.FirstSequence, x.LastSequence)));
        var live = await s.GetMessagesAsync();
        Assert.Equal(80, live.Count);
        Assert.Equal((1L, 223L, 301L), (live[0].Sequence, live[1].Sequence, live[^1].Sequence));

        var ctx = await s.GetConversationContextAsync(8000);
        Assert.Equal("You are a travel agent.", ctx[0].Content);
        Assert.Equal(sums[2].SummaryId, ctx[1].Metadata["summary_id"]!.GetValue<string>());
        Assert.Equal(19, ctx.Count - 2);
        Assert.Equal((283L, 301L), (ctx[2].Sequence, ctx[^1].Sequence));
        Assert.InRange(ctx.Sum(m => m.TokenCount!.Value), 7_610, 8_000);
    }
}
