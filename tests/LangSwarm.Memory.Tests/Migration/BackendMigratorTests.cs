using System.Text.Json.Nodes;
using Xunit;

namespace LangSwarm.Memory.Tests.Migration;

public sealed class BackendMigratorTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static async Task<InMemoryBackend> FilledSourceAsync()
    {
        var source = new InMemoryBackend();
        await source.ConnectAsync();

        var chat = await source.CreateSessionAsync(new SessionMetadata("chat", "alice") { CreatedAt = T0, UpdatedAt = T0, MaxTokens = 5000, SummaryStrategy = SummaryStrategy.Manual });
        var call = new Message
        {
            Role = MessageRole.Assistant,
            Content = string.Empty,
            MessageId = "m2",
            Timestamp = T0.AddMinutes(2),
            TokenCount = 20,
            ToolCalls = [new JsonObject { ["id"] = "c1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{}" } }],
        };
        var result = new Message(MessageRole.Tool, "42") { MessageId = "m3", Timestamp = T0.AddMinutes(3), TokenCount = 5 };
        result.Metadata["tool_call_id"] = "c1";
        var user = new Message(MessageRole.User, "What is the answer?") { MessageId = "m1", Timestamp = T0.AddMinutes(1), TokenCount = 10 };
        user.Metadata["lang"] = "en";
        await chat.AddMessagesAsync([user, call, result, new Message(MessageRole.Assistant, "It is 42.") { MessageId = "m4", Timestamp = T0.AddMinutes(4) }]);
        await chat.CreateSummaryAsync();

        var old = await source.CreateSessionAsync(new SessionMetadata("old", "bob") { CreatedAt = T0.AddDays(-3), UpdatedAt = T0.AddDays(-3) });
        await old.AddMessageAsync(new Message(MessageRole.User, "Old question") { MessageId = "o1", Timestamp = T0.AddDays(-3) });
        await old.ArchiveSessionAsync();

        await source.CreateSessionAsync(new SessionMetadata("empty"));
        return source;
    }

    private static async Task AssertSameSessionAsync(IMemoryBackend source, string sourceId, IMemoryBackend target, string targetId)
    {
        var s = (await source.GetSessionAsync(sourceId))!;
        var t = await target.GetSessionAsync(targetId);
        Assert.NotNull(t);
        var sm = s.Metadata;
        var tm = t.Metadata;
        Assert.Equal(sm.UserId, tm.UserId);
        Assert.Equal(sm.Status, tm.Status);
        Assert.Equal(sm.CreatedAt, tm.CreatedAt);
        Assert.Equal(sm.UpdatedAt, tm.UpdatedAt);
        Assert.Equal(sm.MaxMessages, tm.MaxMessages);
        Assert.Equal(sm.MaxTokens, tm.MaxTokens);
        Assert.Equal(sm.SummaryStrategy, tm.SummaryStrategy);
        Assert.True(JsonNode.DeepEquals(sm.Metadata, tm.Metadata));

        var sMessages = await s.GetMessagesAsync();
        var tMessages = await t.GetMessagesAsync();
        Assert.Equal(sMessages.Count, tMessages.Count);
        for (var i = 0; i < sMessages.Count; i++)
        {
            var a = sMessages[i];
            var b = tMessages[i];
            Assert.Equal(a.MessageId, b.MessageId);
            Assert.Equal(a.Role, b.Role);
            Assert.Equal(a.Content, b.Content);
            Assert.Equal(a.Timestamp, b.Timestamp);
            Assert.Equal(a.TokenCount, b.TokenCount);
            Assert.Equal(a.Sequence, b.Sequence);
            Assert.True(JsonNode.DeepEquals(a.Metadata, b.Metadata));
            Assert.True(JsonNode.DeepEquals(a.ToolCalls, b.ToolCalls));
        }

        var sSummaries = await s.GetSummariesAsync();
        var tSummaries = await t.GetSummariesAsync();
        Assert.Equal(sSummaries.Count, tSummaries.Count);
        for (var i = 0; i < sSummaries.Count; i++)
        {
            Assert.Equal(sSummaries[i].SummaryId, tSummaries[i].SummaryId);
            Assert.Equal(sSummaries[i].SummaryText, tSummaries[i].SummaryText);
            Assert.Equal(sSummaries[i].CreatedAt, tSummaries[i].CreatedAt);
            Assert.Equal(sSummaries[i].FirstSequence, tSummaries[i].FirstSequence);
            Assert.Equal(sSummaries[i].LastSequence, tSummaries[i].LastSequence);
            Assert.Equal(targetId, tSummaries[i].SessionId);
        }
    }

    [Fact]
    public async Task MigrateSessions_copies_everything_through_a_registered_source()
    {
        await using var source = await FilledSourceAsync();
        var factory = new MemoryFactory(discover: false);
        factory.RegisterBackend("v1", _ => source);
        await using var target = new InMemoryBackend();

        var report = await new BackendMigrator(factory: factory).MigrateSessionsAsync("v1", target, batchSize: 2);

        Assert.Equal(3, report.SessionsMigrated);
        Assert.Equal(5, report.MessagesMigrated);
        Assert.Equal(0, report.SessionsSkipped);
        Assert.Empty(report.Errors);
        Assert.True(target.IsConnected);
        // The migrator made the source from a configuration, so it closed it; in-memory data survives that.
        Assert.False(source.IsConnected);
        await source.ConnectAsync();
        await AssertSameSessionAsync(source, "chat", target, "chat");
        await AssertSameSessionAsync(source, "old", target, "old");
        await AssertSameSessionAsync(source, "empty", target, "empty");
        Assert.Equal(SessionStatus.Archived, (await target.GetSessionAsync("old"))!.Metadata.Status);
    }

    [Fact]
    public async Task MigrateSessions_of_an_unknown_backend_fails()
    {
        await using var target = new InMemoryBackend();
        await Assert.ThrowsAsync<MemoryConfigurationException>(() => new BackendMigrator(factory: new MemoryFactory(discover: false)).MigrateSessionsAsync("v1", target));
    }

    [Fact]
    public async Task MigrateMessages_maps_ids_and_skips_existing_and_missing()
    {
        await using var source = await FilledSourceAsync();
        await using var target = new InMemoryBackend();
        await target.ConnectAsync();
        await target.CreateSessionAsync(new SessionMetadata("taken"));
        var migrator = new BackendMigrator(source);

        var report = await migrator.MigrateMessagesAsync(
            new Dictionary<string, string> { ["chat"] = "chat-v2", ["old"] = "taken", ["ghost"] = "ghost-v2" },
            target);

        Assert.Equal(1, report.SessionsMigrated);
        Assert.Equal(4, report.MessagesMigrated);
        Assert.Equal(2, report.SessionsSkipped);
        Assert.Contains(report.Errors, e => e.Contains("ghost", StringComparison.Ordinal));
        await AssertSameSessionAsync(source, "chat", target, "chat-v2");
        Assert.Null(await target.GetSessionAsync("chat"));
        Assert.Null(await target.GetSessionAsync("ghost-v2"));
        Assert.Empty(await (await target.GetSessionAsync("taken"))!.GetMessagesAsync());
    }

    [Fact]
    public async Task Migrated_session_keeps_working()
    {
        await using var source = await FilledSourceAsync();
        await using var target = new InMemoryBackend();
        await new BackendMigrator(source).MigrateMessagesAsync(new Dictionary<string, string> { ["chat"] = "chat" }, target);

        var t = (await target.GetSessionAsync("chat"))!;
        await t.AddMessageAsync(new Message(MessageRole.User, "Next"));
        var all = await t.GetMessagesAsync();
        Assert.Equal(5, all.Count);
        Assert.Equal(5, all[^1].Sequence);
        Assert.Equal(all.Select(m => m.Sequence).Order(), all.Select(m => m.Sequence));
    }

    [Fact]
    public async Task Migration_keeps_sequences_and_summary_coverage_after_eviction()
    {
        await using var source = new InMemoryBackend();
        await source.ConnectAsync();
        var s = await source.CreateSessionAsync(new SessionMetadata("s") { MaxMessages = 4, AutoSummarizeThreshold = 1000 });
        await s.AddMessageAsync(new Message(MessageRole.System, "Rules."));
        for (var i = 1; i <= 8; i++)
        {
            await s.AddMessageAsync(new Message(i % 2 == 1 ? MessageRole.User : MessageRole.Assistant, $"Message number {i}."));
            await source.WhenSummariesIdleAsync();
        }
        var sourceContext = await s.GetConversationContextAsync();

        await using var target = new InMemoryBackend();
        await new BackendMigrator(source).MigrateMessagesAsync(new Dictionary<string, string> { ["s"] = "s" }, target);

        await AssertSameSessionAsync(source, "s", target, "s");
        var t = (await target.GetSessionAsync("s"))!;
        var targetContext = await t.GetConversationContextAsync();
        Assert.Equal(sourceContext.Select(m => m.Content), targetContext.Select(m => m.Content));
        Assert.Contains(targetContext, m => m.Metadata["type"]?.GetValue<string>() == "summary");

        // The copy continues numbering where the source stopped.
        await t.AddMessageAsync(new Message(MessageRole.User, "Next."));
        Assert.Equal(10, (await t.GetMessagesAsync())[^1].Sequence);
    }

    [Fact]
    public async Task MigrateMessages_without_a_source_fails()
    {
        await using var target = new InMemoryBackend();
        await Assert.ThrowsAsync<MemoryConfigurationException>(() => new BackendMigrator().MigrateMessagesAsync(new Dictionary<string, string>(), target));
    }

    [Fact]
    public async Task MigrateSessions_does_not_forget_the_constructor_source()
    {
        await using var source = await FilledSourceAsync();
        await using var other = new InMemoryBackend();
        var factory = new MemoryFactory(discover: false);
        factory.RegisterBackend("v1", _ => other);
        var migrator = new BackendMigrator(source, factory);

        await using var target1 = new InMemoryBackend();
        await migrator.MigrateSessionsAsync("v1", target1);
        await using var target2 = new InMemoryBackend();
        var report = await migrator.MigrateMessagesAsync(new Dictionary<string, string> { ["chat"] = "chat" }, target2);

        Assert.Equal(1, report.SessionsMigrated);
    }

    [Fact]
    public async Task Validate_compares_sessions_and_messages()
    {
        await using var source = await FilledSourceAsync();
        await using var target = new InMemoryBackend();
        var migrator = new BackendMigrator(source);
        await target.ConnectAsync();

        Assert.False(await migrator.ValidateMigrationAsync(await source.GetUsageStatsAsync(), await target.GetUsageStatsAsync()));
        await migrator.MigrateMessagesAsync(new Dictionary<string, string> { ["chat"] = "chat" }, target);
        Assert.False(await migrator.ValidateMigrationAsync(await source.GetUsageStatsAsync(), await target.GetUsageStatsAsync()));
        await migrator.MigrateMessagesAsync(new Dictionary<string, string> { ["old"] = "old", ["empty"] = "empty" }, target);
        Assert.True(await migrator.ValidateMigrationAsync(await source.GetUsageStatsAsync(), await target.GetUsageStatsAsync()));

        var s = new UsageStats { Backend = "x", TotalSessions = 2, TotalMessages = 10 };
        Assert.True(await migrator.ValidateMigrationAsync(s, s with { TotalSessions = 3, TotalMessages = 10 }));
        Assert.False(await migrator.ValidateMigrationAsync(s, s with { TotalMessages = 9 }));
        Assert.False(await migrator.ValidateMigrationAsync(s, s with { TotalSessions = 1, TotalMessages = 99 }));
    }
}
