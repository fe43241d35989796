using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    [Fact]
    public async Task RecentMessages_FitTheBudget_NewestOldestFirst()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(Enumerable.Range(0, 10).Select(i => Msg(MessageRole.User, $"m{i}", tokens: 10)));
        Assert.Equal(["m7", "m8", "m9"], (await s.GetRecentMessagesAsync(35)).Select(m => m.Content));
        Assert.Equal(["m6", "m7", "m8", "m9"], (await s.GetRecentMessagesAsync(40)).Select(m => m.Content));
        Assert.Empty(await s.GetRecentMessagesAsync(9));
        Assert.Empty(await s.GetRecentMessagesAsync(0));
        Assert.Equal(10, (await s.GetRecentMessagesAsync(100000)).Count);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => s.GetRecentMessagesAsync(-1));
    }

    [Fact]
    public async Task RecentMessages_NeverSplitAToolCallFromItsResults()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(
        [
            Msg(MessageRole.User, "weather?", 10),
            ToolCall("c1", tokens: 10),
            ToolResult("c1", "r1", 10),
            ToolResult("c1", "r1b", 10),
            Msg(MessageRole.Assistant, "sunny", 10),
        ]);
        // 35 tokens would fit the last three messages, which would start on an orphan result.
        var w = await s.GetRecentMessagesAsync(35);
        Assert.Equal(["sunny"], w.Select(m => m.Content));
        var w2 = await s.GetRecentMessagesAsync(40);
        Assert.Equal(["", "r1", "r1b", "sunny"], w2.Select(m => m.Content));
        Assert.Equal(MessageRole.Assistant, w2[0].Role);
    }

    [Fact]
    public async Task RecentMessages_DropOrphanResultsAtTheStart()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync([ToolResult("lost", "orphan", 10), Msg(MessageRole.User, "hi", 10)]);
        Assert.Equal(["hi"], (await s.GetRecentMessagesAsync(100)).Select(m => m.Content));
    }

    [Fact]
    public async Task Context_SystemFirst_ThenNewestThatFit()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(
        [
            Msg(MessageRole.System, "rules", 20),
            Msg(MessageRole.User, "u1", 10),
            Msg(MessageRole.Assistant, "a1", 10),
            Msg(MessageRole.User, "u2", 10),
            Msg(MessageRole.Assistant, "a2", 10),
        ]);
        var ctx = await s.GetConversationContextAsync(45);
        Assert.Equal(["rules", "u2", "a2"], ctx.Select(m => m.Content));
        var full = await s.GetConversationContextAsync(1000);
        Assert.Equal(["rules", "u1", "a1", "u2", "a2"], full.Select(m => m.Content));
    }

    [Fact]
    public async Task Context_IncludesLatestSummary_WhenOlderMessagesAreLeftOut()
    {
        var s = await NewSessionAsync();
        await s.AddMessageAsync(Msg(MessageRole.System, "rules", 5));
        await s.AddMessagesAsync(Enumerable.Range(0, 20).Select(i => Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"Turn {i} talks about the Paris trip budget.", 10)));
        var first = await s.CreateSummaryAsync();
        await s.AddMessagesAsync(Enumerable.Range(20, 20).Select(i => Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"Turn {i} talks about the Paris trip budget.", 10)));
        var second = await s.CreateSummaryAsync();
        await s.AddMessagesAsync(Enumerable.Range(40, 10).Select(i => Msg(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"Turn {i} talks about the Paris trip budget.", 10)));

        var all = await s.GetConversationContextAsync(100000);
        Assert.Equal(51, all.Count);
        Assert.DoesNotContain(all, m => m.Metadata.ContainsKey("summary_id"));

        // A window of ~15 turns starts after the second summary's end (turn 39): that summary, then the window.
        var ctx = await s.GetConversationContextAsync(200);
        Assert.Equal("rules", ctx[0].Content);
        Assert.Equal(MessageRole.System, ctx[1].Role);
        Assert.Contains(second.SummaryText, ctx[1].Content);
        Assert.Equal(second.SummaryId, ctx[1].Metadata["summary_id"]!.GetValue<string>());
        Assert.True(ctx.Sum(m => m.TokenCount!.Value) <= 200);
        Assert.Equal("Turn 49 talks about the Paris trip budget.", ctx[^1].Content);
        Assert.All(ctx.Skip(2), m => Assert.NotEqual(MessageRole.System, m.Role));
        Assert.True(ctx[2].Sequence > second.LastSequence);

        // A wider window reaches into the second summary: the first one, which ends before it, stands in.
        var wide = await s.GetConversationContextAsync(330);
        Assert.Equal(first.SummaryId, wide[1].Metadata["summary_id"]!.GetValue<string>());
        Assert.True(wide[2].Sequence > first.LastSequence);
        Assert.True(wide.Sum(m => m.TokenCount!.Value) <= 330);
        Assert.Equal((1L + 1, 21L), (first.FirstSequence, first.LastSequence));
        Assert.Equal((2L, 41L), (second.FirstSequence, second.LastSequence));
    }

    [Fact]
    public async Task Context_ToolPairAtTheEdge_StaysWhole()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync(
        [
            Msg(MessageRole.System, "sys", 10),
            Msg(MessageRole.User, "u", 10),
            ToolCall("c9", tokens: 10),
            ToolResult("c9", "res", 10),
            Msg(MessageRole.Assistant, "done", 10),
        ]);
        var ctx = await s.GetConversationContextAsync(35);
        Assert.Equal(["sys", "done"], ctx.Select(m => m.Content));
        var ctx2 = await s.GetConversationContextAsync(40);
        Assert.Equal(["sys", "", "res", "done"], ctx2.Select(m => m.Content));
    }

    [Fact]
    public async Task Context_SmallerThanOneMessage_GivesOnlySystem()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync([Msg(MessageRole.System, "sys", 10), Msg(MessageRole.User, "big", 500)]);
        Assert.Equal(["sys"], (await s.GetConversationContextAsync(100)).Select(m => m.Content));
        Assert.Empty(await (await NewSessionAsync()).GetConversationContextAsync(5));
    }
}
