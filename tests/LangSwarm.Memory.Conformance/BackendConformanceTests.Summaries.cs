using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    [Fact]
    public async Task ManualSummary_IsPersisted_AndCoversNewMessages()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(Enumerable.Range(0, 6).Select(i => Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"We discuss the budget item {i}. It costs {i * 100} euros.", 12)));
        var first = await s.CreateSummaryAsync(SummaryType.Manual);
        Assert.Equal(6, first.MessageCount);
        Assert.Equal(72, first.TokenCount);
        Assert.Equal(1, first.FirstSequence);
        Assert.Equal(6, first.LastSequence);
        Assert.Equal(SummaryType.Manual, first.SummaryType);
        Assert.False(string.IsNullOrWhiteSpace(first.SummaryText));

        await s.AddMessagesAsync([Msg(MessageRole.User, "And the hotel?", 5), Msg(MessageRole.Assistant, "The hotel costs 90 euros.", 5)]);
        var second = await s.CreateSummaryAsync();
        // The chain: the second summary folds the first and the two messages after it.
        Assert.Equal(8, second.MessageCount);
        Assert.Equal(82, second.TokenCount);
        Assert.Equal((1L, 8L), (second.FirstSequence, second.LastSequence));
        Assert.Equal(SummaryType.Auto, second.SummaryType);

        // Nothing new since: the newest summary again, no summarizer call, nothing stored.
        Assert.Equal(second.SummaryId, (await s.CreateSummaryAsync()).SummaryId);

        var all = await s.GetSummariesAsync();
        Assert.Equal([first.SummaryId, second.SummaryId], all.Select(x => x.SummaryId));
        Assert.Equal(first.SummaryText, all[0].SummaryText);
        Assert.Equal(first.CreatedAt.UtcTicks, all[0].CreatedAt.UtcTicks);
        Assert.Equal(s.SessionId, all[0].SessionId);
    }

    [Fact]
    public async Task PeriodicStrategy_SummarizesEveryThreshold()
    {
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 4;
        });
        for (var i = 0; i < 9; i++)
        {
            await AddAndSettleAsync(s, Msg(MessageRole.User, $"Point {i} about the launch plan.", 5));
        }
        var sums = await s.GetSummariesAsync();
        Assert.Equal(2, sums.Count);
        Assert.All(sums, x => Assert.Equal(SummaryType.Periodic, x.SummaryType));
        // One running chain: the second summary covers the conversation from its start.
        Assert.Equal((1L, 4L), (sums[0].FirstSequence, sums[0].LastSequence));
        Assert.Equal((1L, 8L), (sums[1].FirstSequence, sums[1].LastSequence));
        Assert.Equal([4, 8], sums.Select(x => x.MessageCount));
    }

    [Fact]
    public async Task RollingStrategy_FoldsIntoOneRunningSummary()
    {
        var s = await NewSessionAsync(configure: m =>
        {
            m.SummaryStrategy = SummaryStrategy.Rolling;
            m.AutoSummarizeThreshold = 3;
        });
        for (var i = 0; i < 6; i++)
        {
            await AddAndSettleAsync(s, Msg(MessageRole.User, $"Fact {i} about the garden.", 5));
        }
        var sums = await s.GetSummariesAsync();
        Assert.Equal(2, sums.Count);
        Assert.Equal(1, sums[1].FirstSequence);
        Assert.Equal(6, sums[1].LastSequence);
        Assert.Equal(6, sums[1].MessageCount);
    }

    [Fact]
    public async Task ManualStrategy_NeverSummarizesByItself()
    {
        var s = await NewSessionAsync(configure: m => m.AutoSummarizeThreshold = 2);
        await s.AddMessagesAsync(Enumerable.Range(0, 10).Select(i => Msg(MessageRole.User, $"x{i}")));
        Assert.Empty(await s.GetSummariesAsync());
    }

    [Fact]
    public async Task MaxMessages_EvictsOldestNonSystem_AfterSummarizing()
    {
        var s = await NewSessionAsync(configure: m =>
        {
            m.MaxMessages = 5;
            m.SummaryStrategy = SummaryStrategy.Periodic;
            m.AutoSummarizeThreshold = 1000;
        });
        await s.AddMessageAsync(Msg(MessageRole.System, "rules", 5));
        for (var i = 0; i < 8; i++)
        {
            await AddAndSettleAsync(s, Msg(MessageRole.User, $"Note {i} on the contract terms.", 5));
        }
        var live = await s.GetMessagesAsync();
        Assert.Equal(["rules", "Note 4 on the contract terms.", "Note 5 on the contract terms.", "Note 6 on the contract terms.", "Note 7 on the contract terms."], live.Select(m => m.Content));
        var sums = await s.GetSummariesAsync();
        // Past 5 messages, eviction goes down to 4 (the low-water mark, 0.8 of the limit): two chunks of two
        // notes. The first chunk's summary reaches to the newest message (notes 0-4), so the second chunk
        // leaves already covered: one summarizer call, not one per add.
        var only = Assert.Single(sums);
        Assert.Equal((2L, 6L, 5), (only.FirstSequence, only.LastSequence, only.MessageCount));
        // The context shows the summary in place of what it covers, then the messages after it.
        var ctx = await s.GetConversationContextAsync(10000);
        Assert.Equal("rules", ctx[0].Content);
        Assert.Equal(only.SummaryId, ctx[1].Metadata["summary_id"]!.GetValue<string>());
        Assert.Equal(["Note 5 on the contract terms.", "Note 6 on the contract terms.", "Note 7 on the contract terms."], ctx.Skip(2).Select(m => m.Content));
        var stats = await Backend.GetUsageStatsAsync();
        Assert.Equal(5, stats.TotalMessages);
    }

    [Fact]
    public async Task MaxTokens_EvictsWholeToolBlocks()
    {
        var s = await NewSessionAsync(configure: m => m.MaxTokens = 40);
        await s.AddMessagesAsync([ToolCall("k1", tokens: 10), ToolResult("k1", "r", 10)]);
        await s.AddMessagesAsync([Msg(MessageRole.User, "u1", 10), Msg(MessageRole.Assistant, "a1", 10)]);
        await s.AddMessageAsync(Msg(MessageRole.User, "u2", 10));
        var live = await s.GetMessagesAsync();
        Assert.Equal(["u1", "a1", "u2"], live.Select(m => m.Content));
        Assert.Empty(await s.GetSummariesAsync());
    }
}
