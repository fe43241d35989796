using LangSwarm.MemoryEngine;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

public sealed class ChatClientMemoryTests
{
    private static ChatOptions Tools() => new() { Tools = [AIFunctionFactory.Create((string city) => "sunny in " + city, "get_weather")] };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Conversation_with_a_tool_call_is_stored_and_reloaded_across_a_restart(bool streaming)
    {
        using var dir = new TempDir();
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);

        async Task<string> TurnAsync(IChatClient client, string text)
        {
            if (!streaming)
            {
                return (await client.GetResponseAsync([new ChatMessage(ChatRole.User, text)], Tools(), Ct.Token)).Text;
            }
            var updates = new List<ChatResponseUpdate>();
            await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, text)], Tools(), Ct.Token))
            {
                updates.Add(u);
            }
            return updates.ToChatResponse().Text;
        }

        await using (var manager = new MemoryManager(new EngineBackend(dir.Path)))
        {
            using var client = new ChatClientBuilder(model).UseFunctionInvocation().UseLangSwarmMemory(manager, o => o.SessionId = "chat-1").Build();
            Assert.Equal("echo: Hi", await TurnAsync(client, "Hi"));
            Assert.EndsWith("The weather is sunny in Paris.", await TurnAsync(client, "What's the weather?"));
        }

        // The tool loop's second call was sent the stored call and its result after the earlier turn.
        var afterTool = model.Requests[^1];
        Assert.Equal(["Hi", "echo: Hi", "What's the weather?"], afterTool.Take(3).Select(m => m.Text));
        Assert.Single(afterTool[3].Contents.OfType<FunctionCallContent>());
        Assert.Equal("sunny in Paris", Assert.Single(afterTool[4].Contents.OfType<FunctionResultContent>()).Result?.ToString());

        await using (var manager = new MemoryManager(new EngineBackend(dir.Path)))
        {
            using var client = new ChatClientBuilder(model).UseFunctionInvocation().UseLangSwarmMemory(manager, o => o.SessionId = "chat-1").Build();
            Assert.Equal("echo: again", await TurnAsync(client, "again"));
            var session = await manager.GetSessionAsync("chat-1", Ct.Token);
            var stored = await session!.GetMessagesAsync(cancellationToken: Ct.Token);
            Assert.Equal(
                [MessageRole.User, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant, MessageRole.Tool, MessageRole.Assistant, MessageRole.User, MessageRole.Assistant],
                stored.Select(m => m.Role));
            Assert.True(stored[3].HasCalls);
        }
        // After the restart the model was sent the whole earlier conversation, then the new turn.
        Assert.Equal(7, model.Requests[^1].Count);
    }

    [Fact]
    public async Task Calls_without_a_session_pass_through()
    {
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new InMemoryBackend());
        using var client = new ChatClientBuilder(model).UseLangSwarmMemory(manager).Build();
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "x")], cancellationToken: Ct.Token);
        Assert.Equal("echo: x", response.Text);
        Assert.Null(response.ConversationId);
        await manager.Backend.ConnectAsync(Ct.Token);
        Assert.Empty(await manager.Backend.ListSessionsAsync(cancellationToken: Ct.Token));
    }

    [Fact]
    public async Task Conversation_id_picks_the_session_and_system_messages_are_not_stored()
    {
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new InMemoryBackend());
        using var client = new ChatClientBuilder(model).UseLangSwarmMemory(manager).Build();
        var options = new ChatOptions { ConversationId = "conv-9" };
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.System, "Be brief."), new ChatMessage(ChatRole.User, "one")], options, Ct.Token);
        Assert.Equal("conv-9", response.ConversationId);
        var stored = await (await manager.GetSessionAsync("conv-9", Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token);
        Assert.Equal(["one", "echo: one"], stored.Select(m => m.Content));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_with_a_user_never_uses_another_users_session(bool streaming)
    {
        var model = new RecordingChatClient(RecordingChatClient.WeatherScript);
        await using var manager = new MemoryManager(new InMemoryBackend());
        var alices = await manager.CreateSessionAsync("alice", "conv-alice", cancellationToken: Ct.Token);
        await alices.AddMessageAsync(new Message(MessageRole.User, "alice's secret"), Ct.Token);
        await manager.CreateSessionAsync(null, "conv-nobody", cancellationToken: Ct.Token);
        using var client = new ChatClientBuilder(model).UseLangSwarmMemory(manager, o => o.UserId = "bob").Build();

        async Task CallAsync(string conversation)
        {
            var options = new ChatOptions { ConversationId = conversation };
            if (!streaming)
            {
                await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], options, Ct.Token);
                return;
            }
            await foreach (var _ in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], options, Ct.Token))
            {
            }
        }

        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => CallAsync("conv-alice"));
        await Assert.ThrowsAsync<SessionAccessDeniedException>(() => CallAsync("conv-nobody"));
        Assert.Empty(model.Requests);
        Assert.Equal(["alice's secret"], (await alices.GetMessagesAsync(cancellationToken: Ct.Token)).Select(m => m.Content));
        Assert.Empty(await (await manager.GetSessionAsync("conv-nobody", Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token));

        // Bob's own conversation is created for him and used.
        await CallAsync("conv-bob");
        var bobs = await manager.GetSessionAsync("conv-bob", "bob", Ct.Token);
        Assert.Equal(["hi", "echo: hi"], (await bobs!.GetMessagesAsync(cancellationToken: Ct.Token)).Select(m => m.Content));
    }
}
