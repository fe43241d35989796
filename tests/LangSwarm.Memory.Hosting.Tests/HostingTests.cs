using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

public sealed class HostingTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings, Action<IServiceCollection>? more = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddLangSwarmMemory(builder.Configuration.GetSection("LangSwarm:Memory"));
        more?.Invoke(builder.Services);
        return builder.Build();
    }

    [Fact]
    public async Task Configured_engine_store_connects_at_start_and_closes_at_stop()
    {
        using var dir = new TempDir();
        using var host = BuildHost(new()
        {
            ["LangSwarm:Memory:Backend"] = "engine",
            ["LangSwarm:Memory:Options:path"] = dir.Path,
            ["LangSwarm:Memory:Options:durability"] = "Batched",
        });
        var backend = host.Services.GetRequiredService<IMemoryBackend>();
        var manager = host.Services.GetRequiredService<IMemoryManager>();
        Assert.Same(backend, manager.Backend);
        Assert.Equal("engine", backend.Name);
        Assert.False(backend.IsConnected);

        await host.StartAsync(Ct.Token);
        Assert.True(backend.IsConnected);
        var session = await manager.CreateSessionAsync("u1", "s1", cancellationToken: Ct.Token);
        await session.AddMessageAsync(new Message(MessageRole.User, "hello"), Ct.Token);

        await host.StopAsync(Ct.Token);
        Assert.False(backend.IsConnected);
        await Assert.ThrowsAsync<BackendUnavailableException>(() => manager.GetSessionAsync("s1", Ct.Token));

        // Closed cleanly: another backend opens the same store and finds the message.
        await using var again = new MemoryEngine.EngineBackend(dir.Path);
        await again.ConnectAsync(Ct.Token);
        var reopened = await again.GetSessionAsync("s1", Ct.Token);
        Assert.Equal("hello", Assert.Single(await reopened!.GetMessagesAsync(cancellationToken: Ct.Token)).Content);
    }

    [Theory]
    [InlineData("LangSwarm:Memory:Backend", "nosuch", "Unknown memory backend 'nosuch'")]
    [InlineData("LangSwarm:Memory:Options:colour", "blue", "Unknown option 'colour' for backend 'in_memory'")]
    [InlineData("LangSwarm:Memory:Sessions:MaxTokens", "0", "Sessions:MaxTokens must be positive")]
    [InlineData("LangSwarm:Memory:Sessions:EvictionLowWater", "1.5", "Sessions:EvictionLowWater must be in (0, 1]")]
    [InlineData("LangSwarm:Memory:Retention:MaxAgeDays", "-1", "Retention:MaxAgeDays")]
    [InlineData("LangSwarm:Memory:Summarizer:Kind", "chat_client", "no IChatClient is registered")]
    [InlineData("LangSwarm:Memory:Summarizer:Kind", "magic", "Summarizer:Kind must be")]
    public async Task Bad_settings_stop_the_start_with_a_message_naming_them(string key, string value, string expected)
    {
        using var host = BuildHost(new() { ["LangSwarm:Memory:Backend"] = "in_memory", [key] = value });
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Ct.Token));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("LangSwarm memory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_defaults_retention_and_summarizer_reach_the_store()
    {
        var model = new RecordingChatClient(_ => new ChatMessage(ChatRole.Assistant, "a summary"));
        using var host = BuildHost(
            new()
            {
                ["LangSwarm:Memory:Backend"] = "in_memory",
                ["LangSwarm:Memory:Sessions:MaxTokens"] = "1234",
                ["LangSwarm:Memory:Sessions:AutoSummarizeThreshold"] = "7",
                ["LangSwarm:Memory:Sessions:SummaryStrategy"] = "Periodic",
                ["LangSwarm:Memory:Retention:MaxAgeDays"] = "9",
                ["LangSwarm:Memory:Retention:Interval"] = "00:10:00",
                ["LangSwarm:Memory:Summarizer:Kind"] = "chat_client",
                ["LangSwarm:Memory:Summarizer:MaxConcurrency"] = "3",
            },
            s => s.AddSingleton<IChatClient>(model));
        await host.StartAsync(Ct.Token);
        var manager = host.Services.GetRequiredService<IMemoryManager>();
        var session = await manager.CreateSessionAsync("u", cancellationToken: Ct.Token);
        Assert.Equal(1234, session.Metadata.MaxTokens);
        Assert.Equal(7, session.Metadata.AutoSummarizeThreshold);
        Assert.Equal(SummaryStrategy.Periodic, session.Metadata.SummaryStrategy);
        var own = Assert.IsAssignableFrom<MemoryBackendBase>(manager.Backend);
        Assert.Equal(TimeSpan.FromDays(9), own.Retention!.MaxAge);
        Assert.Equal(TimeSpan.FromMinutes(10), own.Retention.Interval);
        Assert.Equal(3, own.BackgroundSummaries.MaxConcurrency);
        Assert.IsType<ChatClientSummarizer>(own.Summarizer);

        await session.AddMessageAsync(new Message(MessageRole.User, "one"), Ct.Token);
        var summary = await session.CreateSummaryAsync(cancellationToken: Ct.Token);
        Assert.Equal("a summary", summary.SummaryText);
        await host.StopAsync(Ct.Token);
    }

    [Fact]
    public async Task Start_and_stop_are_logged_by_event_id()
    {
        var log = new ListLogger();
        using var host = BuildHost(new() { ["LangSwarm:Memory:Backend"] = "in_memory" }, s => s.AddLogging(l => l.AddProvider(new ListLoggerProvider(log))));
        await host.StartAsync(Ct.Token);
        await host.StopAsync(Ct.Token);
        Assert.Equal(
            [MemoryEventIds.BackendConnected, MemoryEventIds.HostStarted, MemoryEventIds.BackendDisconnected, MemoryEventIds.HostStopped],
            log.Entries.Select(e => e.Id).Where(id => id is >= 1000 and < 1200));
    }

    [Fact]
    public async Task Adding_the_same_store_twice_registers_it_once()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLangSwarmMemory(o => o.Backend = "in_memory");
        builder.Services.AddLangSwarmMemory(o => o.Sessions.MaxTokens = 999);
        using var host = builder.Build();
        Assert.Single(host.Services.GetServices<IMemoryManager>());
        Assert.Single(host.Services.GetServices<IHostedService>(), s => s.GetType().Name == "MemoryHostedService");
        await host.StartAsync(Ct.Token);
        var session = await host.Services.GetRequiredService<IMemoryManager>().CreateSessionAsync(cancellationToken: Ct.Token);
        Assert.Equal(999, session.Metadata.MaxTokens);
        await host.StopAsync(Ct.Token);
    }

    [Fact]
    public async Task Named_stores_are_keyed_services_with_their_own_backends()
    {
        using var dir = new TempDir();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddLangSwarmMemory("chat", o => o.Backend = "in_memory");
        builder.Services.AddLangSwarmMemory("archive", o =>
        {
            o.Backend = "engine";
            o.Options["path"] = dir.Path;
        });
        using var host = builder.Build();
        await host.StartAsync(Ct.Token);

        var chat = host.Services.GetRequiredKeyedService<IMemoryManager>("chat");
        var archive = host.Services.GetRequiredKeyedService<IMemoryManager>("archive");
        Assert.Equal("in_memory", chat.Backend.Name);
        Assert.Equal("engine", archive.Backend.Name);
        Assert.Same(archive.Backend, host.Services.GetRequiredKeyedService<IMemoryBackend>("archive"));
        Assert.True(chat.Backend.IsConnected);
        Assert.True(archive.Backend.IsConnected);
        Assert.Null(host.Services.GetService<IMemoryManager>());

        await host.StopAsync(Ct.Token);
        Assert.False(chat.Backend.IsConnected);
        Assert.False(archive.Backend.IsConnected);
    }
}
