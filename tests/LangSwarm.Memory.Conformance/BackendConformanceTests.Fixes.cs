using Xunit;

namespace LangSwarm.Memory.Conformance;

public abstract partial class BackendConformanceTests
{
    /// <summary>A system message of well over 1,000 tokens; the backend counts it.</summary>
    private static Message LargeSystem(int n) =>
        new(MessageRole.System, $"Rule set {n}: " + string.Join(' ', Enumerable.Range(0, 700).Select(i => $"rule{n}x{i}")));

    /// <summary>Fills a session with three large system messages among ordinary turns, all counted by the backend.</summary>
    private async Task<IMemorySession> SessionWithLargeSystemMessagesAsync()
    {
        var s = await NewSessionAsync();
        await s.AddMessageAsync(LargeSystem(1));
        for (var i = 0; i < 60; i++)
        {
            if (i == 20)
            {
                await s.AddMessageAsync(LargeSystem(2));
            }
            if (i == 40)
            {
                await s.AddMessageAsync(LargeSystem(3));
            }
            var role = i % 2 == 0 ? MessageRole.User : MessageRole.Assistant;
            await s.AddMessageAsync(new Message(role, $"Turn {i}: " + string.Join(' ', Enumerable.Range(0, 60).Select(j => $"talk{i}y{j}"))));
        }
        return s;
    }

    /// <summary>Tokens of a context as the backend counted them (every returned message carries its count).</summary>
    private static long ContextTokens(IReadOnlyList<Message> context) =>
        context.Sum(m => (long)(m.TokenCount ?? throw new InvalidOperationException($"Message '{m.Content[..Math.Min(20, m.Content.Length)]}' has no token count.")));

    [Fact]
    public async Task Context_NeverExceedsTheBudget_WithLargeSystemMessages()
    {
        var s = await SessionWithLargeSystemMessagesAsync();
        var systems = (await s.GetMessagesAsync(roles: [MessageRole.System])).ToList();
        Assert.Equal(3, systems.Count);
        var systemTokens = systems.Select(m => (long)m.TokenCount!.Value).ToList();
        Assert.All(systemTokens, t => Assert.True(t > 1000, $"a large system message has {t} tokens"));
        var allSystem = systemTokens.Sum();

        // Smaller than one system message: none of them fits, and that is no error.
        var small = await s.GetConversationContextAsync(1000);
        Assert.True(ContextTokens(small) <= 1000, $"{ContextTokens(small)} tokens for a budget of 1000");
        Assert.DoesNotContain(small, m => m.Content.StartsWith("Rule set", StringComparison.Ordinal));
        Assert.NotEmpty(small);
        Assert.StartsWith("Turn 59:", small[^1].Content, StringComparison.Ordinal);

        // Room for the newest one (or two) but not all: the newest are kept, the oldest left out.
        var some = (int)(systemTokens[2] + systemTokens[1] + 10);
        var partial = await s.GetConversationContextAsync(some);
        Assert.True(ContextTokens(partial) <= some);
        var keptRules = partial.Where(m => m.Content.StartsWith("Rule set", StringComparison.Ordinal)).Select(m => m.Content[..10]).ToList();
        Assert.Equal(["Rule set 2", "Rule set 3"], keptRules);
        Assert.Equal(MessageRole.System, partial[0].Role);
        Assert.Equal(MessageRole.System, partial[1].Role);

        var lessThanAll = (int)(allSystem - 1);
        var ctx = await s.GetConversationContextAsync(lessThanAll);
        Assert.True(ContextTokens(ctx) <= lessThanAll);
        Assert.DoesNotContain(ctx, m => m.Content.StartsWith("Rule set 1:", StringComparison.Ordinal));

        Assert.Empty(await s.GetConversationContextAsync(0));
    }

    [Fact]
    public async Task Context_SeedDefaults_KeepTheirBudget_WithASummary()
    {
        var s = await SessionWithLargeSystemMessagesAsync();
        await s.CreateSummaryAsync();
        foreach (var budget in new[] { 8000, 4000 })
        {
            var ctx = await s.GetConversationContextAsync(budget);
            Assert.True(ContextTokens(ctx) <= budget, $"{ContextTokens(ctx)} tokens for a budget of {budget}");
            Assert.NotEmpty(ctx);
            Assert.StartsWith("Turn 59:", ctx[^1].Content, StringComparison.Ordinal);
        }
        var byDefault = await s.GetConversationContextAsync();
        Assert.True(ContextTokens(byDefault) <= 8000);
        var recent = await s.GetRecentMessagesAsync();
        Assert.True(ContextTokens(recent) <= 4000);
    }

    [Fact]
    public async Task CreateSummary_DefaultsToAuto()
    {
        var s = await NewSessionAsync();
        await s.AddMessagesAsync([Msg(MessageRole.User, "Plan the Paris trip.", 5), Msg(MessageRole.Assistant, "Three days, two museums.", 5)]);
        var summary = await s.CreateSummaryAsync();
        Assert.Equal(SummaryType.Auto, summary.SummaryType);
        Assert.Equal(SummaryType.Auto, Assert.Single(await s.GetSummariesAsync()).SummaryType);
    }

    [Fact]
    public async Task UpdateMetadata_CannotChangeTheOwner()
    {
        var s = await NewSessionAsync(userId: "owner");
        var before = (await Backend.GetSessionAsync(s.SessionId))!.Metadata;

        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["custom"] = "x", ["user_id"] = "mallory" }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["UserId"] = null }));
        await Assert.ThrowsAsync<ArgumentException>(() => s.UpdateMetadataAsync(new Dictionary<string, object?> { ["user-id"] = "OWNER" }));

        var after = (await Backend.GetSessionAsync(s.SessionId))!.Metadata;
        Assert.Equal("owner", after.UserId);
        Assert.Equal("owner", s.Metadata.UserId);
        Assert.False(after.Metadata.ContainsKey("custom"));
        Assert.Equal(before.UpdatedAt.UtcTicks, after.UpdatedAt.UtcTicks);
        Assert.Empty(await Backend.ListSessionsAsync(userId: "mallory"));
        Assert.Equal([s.SessionId], (await Backend.ListSessionsAsync(userId: "owner")).Select(m => m.SessionId));

        // Naming the owner it already has changes nothing and is allowed (a metadata dictionary read back and resent).
        await s.UpdateMetadataAsync(new Dictionary<string, object?> { ["user_id"] = "owner", ["custom"] = "y" });
        Assert.Equal("y", (await Backend.GetSessionAsync(s.SessionId))!.Metadata.Metadata["custom"]!.GetValue<string>());

        // A session without an owner cannot be claimed either.
        var anonymous = await NewSessionAsync(userId: null);
        await Assert.ThrowsAsync<ArgumentException>(() => anonymous.UpdateMetadataAsync(new Dictionary<string, object?> { ["user_id"] = "claimer" }));
        Assert.Null((await Backend.GetSessionAsync(anonymous.SessionId))!.Metadata.UserId);
    }
}
