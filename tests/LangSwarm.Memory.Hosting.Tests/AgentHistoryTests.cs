using System.Text.Json;
using LangSwarm.Memory.Agents;
using LangSwarm.MemoryEngine;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>A real ChatClientAgent over a scripted model, its history in the engine.</summary>
public sealed class AgentHistoryTests
{
    private static ChatClientAgent Agent(IChatClient model, LangSwarmChatHistoryProvider history) => new(
        model,
        new ChatClientAgentOptions
        {
            ChatOptions = new ChatOptions
            {
                Instructions = "Be helpful.",
                Tools = [AIFunctionFactory.Create((string city) => "sunny in " + city, "get_weather")],
            },
            ChatHistoryProvider = history,
            RequirePerServiceCallChatHistoryPersistence = true,
        });

    private static async Task<IReadOnlyList<Message>> StoredAsync(IMemoryManager manager, string sessionId) =>
        await (await manager.GetSessionAsync(sessionId, Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token);

    [Fact]
    public async Task Multi_turn_conversation_with_a_tool_call_survives_a_restart()
    {
        using var dir = new TempDir();
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        JsonElement saved;
        string sessionId;
        var storedWhenResultSent = -1;

        await using (var manager = new MemoryManager(new EngineBackend(dir.Path)))
        {
            var history = new LangSwarmChatHistoryProvider(manager);
            var agent = Agent(model, history);
            var session = await agent.CreateSessionAsync(Ct.Token);
            sessionId = history.GetSessionId(session);
            model.BeforeReply = async () =>
            {
                if (model.Requests[^1][^1].Contents.Any(c => c is FunctionResultContent))
                {
                    storedWhenResultSent = (await StoredAsync(manager, sessionId)).Count;
                }
            };

            Assert.Equal("echo: Hi", (await agent.RunAsync("Hi", session, cancellationToken: Ct.Token)).Text);
            Assert.Contains("The weather is sunny in Paris.", (await agent.RunAsync("What's the weather?", session, cancellationToken: Ct.Token)).Text);
            saved = await agent.SerializeSessionAsync(session, cancellationToken: Ct.Token);
        }

        // Stored as they happen: the call was in the store before the model answered its result.
        Assert.Equal(4, storedWhenResultSent);
        model.BeforeReply = null;

        await using (var manager = new MemoryManager(new EngineBackend(dir.Path)))
        {
            var history = new LangSwarmChatHistoryProvider(manager);
            var agent = Agent(model, history);
            var session = await agent.DeserializeSessionAsync(saved, cancellationToken: Ct.Token);
            Assert.Equal(sessionId, history.GetSessionId(session));
            Assert.Equal("echo: Thanks", (await agent.RunAsync("Thanks", session, cancellationToken: Ct.Token)).Text);

            var sent = model.Requests[^1];
            Assert.Equal("Hi", sent[0].Text);
            Assert.Equal("echo: Hi", sent[1].Text);
            Assert.Equal("What's the weather?", sent[2].Text);
            Assert.Single(sent[3].Contents.OfType<FunctionCallContent>());
            Assert.Single(sent[4].Contents.OfType<FunctionResultContent>());
            Assert.Equal("The weather is sunny in Paris.", sent[5].Text);
            Assert.Equal("Thanks", sent[6].Text);
            Assert.Equal(7, sent.Count);

            var stored = await StoredAsync(manager, sessionId);
            Assert.Equal(
                [MessageRole.User, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant, MessageRole.Tool, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant],
                stored.Select(m => m.Role));
        }
    }

    [Fact]
    public async Task Streamed_runs_are_stored_with_their_tool_calls()
    {
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new InMemoryBackend());
        var history = new LangSwarmChatHistoryProvider(manager);
        var agent = Agent(model, history);
        var session = await agent.CreateSessionAsync(Ct.Token);
        var text = new List<string>();
        await foreach (var update in agent.RunStreamingAsync("What's the weather?", session, cancellationToken: Ct.Token))
        {
            text.Add(update.Text);
        }
        Assert.Equal("The weather is sunny in Paris.", string.Concat(text));
        var stored = await StoredAsync(manager, history.GetSessionId(session));
        Assert.Equal([MessageRole.User, MessageRole.Assistant, MessageRole.Tool, MessageRole.Assistant], stored.Select(m => m.Role));
        Assert.Equal("The weather is sunny in Paris.", stored[^1].Content);
    }

    [Fact]
    public async Task The_model_sees_the_summary_and_the_newest_turns_within_budget()
    {
        using var dir = new TempDir();
        const int Budget = 400;
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new EngineBackend(dir.Path));
        await manager.CreateSessionAsync(null, "long", m => m.AutoSummarizeThreshold = 10, Ct.Token);
        var history = new LangSwarmChatHistoryProvider(manager, new LangSwarmChatHistoryOptions { MaxContextTokens = Budget });
        var agent = Agent(model, history);
        var session = await agent.CreateSessionAsync(Ct.Token);
        history.SetSessionId(session, "long");

        for (var i = 0; i < 30; i++)
        {
            await agent.RunAsync($"Turn {i}: please remember that item {i} is stored on shelf {i * 7}.", session, cancellationToken: Ct.Token);
        }
        await manager.Backend.WhenSummariesIdleAsync(Ct.Token);
        await agent.RunAsync("Last question.", session, cancellationToken: Ct.Token);

        var sent = model.Requests[^1];
        var historyPart = sent.Take(sent.Count - 1).ToList();
        Assert.Equal(ChatRole.System, historyPart[0].Role);
        Assert.StartsWith("Summary of the earlier conversation", historyPart[0].Text);
        Assert.Equal("echo: Turn 29: please remember that item 29 is stored on shelf 203.", historyPart[^1].Text);
        Assert.DoesNotContain(historyPart, m => m.Text.StartsWith("Turn 0:", StringComparison.Ordinal));
        var tokens = historyPart.SelectMany(ChatMessageConversion.FromChatMessage).Sum(TiktokenCounter.Default.CountMessageTokens);
        Assert.True(tokens <= Budget, $"history of {tokens} tokens");
        Assert.Equal("Last question.", sent[^1].Text);
    }

    [Fact]
    public async Task A_provider_with_a_user_never_uses_another_users_session()
    {
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new InMemoryBackend());
        var alices = await manager.CreateSessionAsync("alice", "agent-alice", cancellationToken: Ct.Token);
        await alices.AddMessageAsync(new Message(MessageRole.User, "alice's secret"), Ct.Token);
        var history = new LangSwarmChatHistoryProvider(manager, new LangSwarmChatHistoryOptions { UserId = "bob" });
        var agent = Agent(model, history);
        var session = await agent.CreateSessionAsync(Ct.Token);
        // A session id from outside (a serialized agent session, say) naming Alice's conversation.
        history.SetSessionId(session, "agent-alice");

        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => agent.RunAsync("Tell me", session, cancellationToken: Ct.Token));
        Assert.Empty(model.Requests);
        Assert.Equal(["alice's secret"], (await StoredAsync(manager, "agent-alice")).Select(m => m.Content));

        var own = await agent.CreateSessionAsync(Ct.Token);
        Assert.Equal("echo: Hi", (await agent.RunAsync("Hi", own, cancellationToken: Ct.Token)).Text);
        Assert.NotNull(await manager.GetSessionAsync(history.GetSessionId(own), "bob", Ct.Token));
    }
}
