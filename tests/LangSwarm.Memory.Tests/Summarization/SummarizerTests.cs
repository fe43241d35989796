using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using Xunit;

namespace LangSwarm.Memory.Tests.Summarization;

public sealed class SummarizerTests
{
    private static List<Message> Conversation()
    {
        var call = new Message
        {
            Role = MessageRole.Assistant,
            Content = "Let me check the weather in Paris.",
            ToolCalls =
            [
                new JsonObject
                {
                    ["id"] = "c1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = """{"city":"Paris"}""" },
                },
            ],
        };
        var result = new Message(MessageRole.Tool, "Paris: 18C, sunny");
        result.Metadata["tool_call_id"] = "c1";
        return
        [
            new Message(MessageRole.System, "You are a travel assistant."),
            new Message(MessageRole.User, "I am planning a trip to Paris in June. What is the weather in Paris like?"),
            call,
            result,
            new Message(MessageRole.Assistant, "Paris in June is usually warm. Today Paris has 18C and sun."),
            new Message(MessageRole.User, "Book a hotel near the Louvre in Paris for three nights."),
            new Message(MessageRole.Assistant, "I booked the Hotel du Louvre in Paris for three nights."),
            new Message { Role = MessageRole.Assistant, Content = string.Empty, FunctionCall = new JsonObject { ["name"] = "send_email", ["arguments"] = "{}" } },
        ];
    }

    [Fact]
    public async Task Extractive_is_deterministic()
    {
        var s = new ExtractiveSummarizer();
        var a = await s.SummarizeAsync(Conversation(), null);
        var b = await new ExtractiveSummarizer().SummarizeAsync(Conversation(), null);
        Assert.Equal(a, b);
        Assert.False(string.IsNullOrWhiteSpace(a));
    }

    [Fact]
    public async Task Extractive_counts_roles_and_names_tools()
    {
        var text = await new ExtractiveSummarizer().SummarizeAsync(Conversation(), null);
        Assert.StartsWith("8 messages (2 user, 4 assistant, 1 tool results); tools used: get_weather, send_email.", text, StringComparison.Ordinal);
        Assert.Contains("Paris", text, StringComparison.Ordinal);
        Assert.DoesNotContain("travel assistant", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    [InlineData(300)]
    public async Task Extractive_respects_max_chars(int maxChars)
    {
        var s = new ExtractiveSummarizer(maxSentences: 10, maxChars: maxChars);
        var text = await s.SummarizeAsync(Conversation(), new string('x', 500));
        Assert.True(text.Length <= maxChars, $"{text.Length} > {maxChars}: {text}");
    }

    [Fact]
    public async Task Extractive_max_chars_never_splits_a_surrogate_pair()
    {
        var s = new ExtractiveSummarizer(maxSentences: 3, maxChars: 80);
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 200));
        var text = await s.SummarizeAsync([new Message(MessageRole.User, emoji)], emoji);
        Assert.True(text.Length <= 80);
        Assert.True(MessageValidator.IsValidUtf16(text), text);
    }

    [Fact]
    public async Task Extractive_max_sentences_limits_kept_sentences()
    {
        var s = new ExtractiveSummarizer(maxSentences: 1);
        var text = await s.SummarizeAsync(Conversation(), null);
        Assert.Equal(1, CountOccurrences(text, "User: ") + CountOccurrences(text, "Assistant: "));
    }

    [Fact]
    public async Task Extractive_rolling_includes_previous_summary()
    {
        var text = await new ExtractiveSummarizer().SummarizeAsync(Conversation(), "  The user likes museums.  ");
        Assert.StartsWith("Earlier: The user likes museums. 8 messages", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Extractive_rejects_bad_limits()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExtractiveSummarizer(maxSentences: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExtractiveSummarizer(maxChars: 79));
    }

    [Fact]
    public async Task Extractive_honours_cancellation()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new ExtractiveSummarizer().SummarizeAsync(Conversation(), null, cts.Token));
    }

    private static int CountOccurrences(string text, string part)
    {
        var n = 0;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
        {
            n++;
        }
        return n;
    }

    /// <summary>A scripted chat client: records the request and answers with a fixed text or throws.</summary>
    private sealed class FakeChatClient(Func<IReadOnlyList<ChatMessage>, ChatResponse> answer) : IChatClient
    {
        public List<ChatMessage> LastRequest { get; } = [];

        public ChatOptions? LastOptions { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            LastRequest.Clear();
            LastRequest.AddRange(messages);
            LastOptions = options;
            return Task.FromResult(answer(LastRequest));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task ChatClient_sends_prompt_and_transcript_and_returns_the_text()
    {
        using var client = new FakeChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "  A trip to Paris was booked.  ")));
        var options = new ChatOptions { Temperature = 0 };
        var s = new ChatClientSummarizer(client, options);

        var text = await s.SummarizeAsync(Conversation(), "Earlier facts.");

        Assert.Equal("A trip to Paris was booked.", text);
        Assert.Same(options, client.LastOptions);
        Assert.Equal(2, client.LastRequest.Count);
        Assert.Equal(ChatRole.System, client.LastRequest[0].Role);
        Assert.Equal(ChatClientSummarizer.DefaultPrompt, client.LastRequest[0].Text);
        var transcript = client.LastRequest[1].Text;
        Assert.Equal(ChatRole.User, client.LastRequest[1].Role);
        Assert.StartsWith("Summary so far: Earlier facts.", transcript, StringComparison.Ordinal);
        Assert.Contains("user: I am planning a trip to Paris in June.", transcript, StringComparison.Ordinal);
        Assert.Contains("tool: Paris: 18C, sunny", transcript, StringComparison.Ordinal);
        Assert.Contains("[tool calls: ", transcript, StringComparison.Ordinal);
        Assert.Contains("get_weather", transcript, StringComparison.Ordinal);
        Assert.Contains("[function call: ", transcript, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatClient_custom_prompt_is_used()
    {
        using var client = new FakeChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        await new ChatClientSummarizer(client, prompt: "Be terse.").SummarizeAsync([new Message(MessageRole.User, "hi")], null);
        Assert.Equal("Be terse.", client.LastRequest[0].Text);
        Assert.DoesNotContain("Summary so far", client.LastRequest[1].Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task ChatClient_empty_response_is_a_memory_error(string reply)
    {
        using var client = new FakeChatClient(_ => new ChatResponse(new ChatMessage(ChatRole.Assistant, reply)));
        var ex = await Assert.ThrowsAsync<MemoryException>(() => new ChatClientSummarizer(client).SummarizeAsync(Conversation(), null));
        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatClient_failure_is_wrapped()
    {
        using var client = new FakeChatClient(_ => throw new HttpRequestException("503 Service Unavailable"));
        var ex = await Assert.ThrowsAsync<MemoryException>(() => new ChatClientSummarizer(client).SummarizeAsync(Conversation(), null));
        Assert.IsType<HttpRequestException>(ex.InnerException);
        Assert.Contains("503", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ChatClient_cancellation_is_not_wrapped()
    {
        using var client = new FakeChatClient(_ => throw new OperationCanceledException());
        await Assert.ThrowsAsync<OperationCanceledException>(() => new ChatClientSummarizer(client).SummarizeAsync(Conversation(), null));
    }

    [Fact]
    public void ChatClient_needs_a_client() => Assert.Throws<ArgumentNullException>(() => new ChatClientSummarizer(null!));

    [Fact]
    public async Task ChatClient_summarizer_drives_a_backend()
    {
        using var client = new FakeChatClient(req => new ChatResponse(new ChatMessage(ChatRole.Assistant, "LLM summary")));
        await using var backend = new InMemoryBackend(summarizer: new ChatClientSummarizer(client));
        await backend.ConnectAsync();
        var session = await backend.CreateSessionAsync(new SessionMetadata("s"));
        await session.AddMessageAsync(new Message(MessageRole.User, "Remember that my name is Ada."));
        var summary = await session.CreateSummaryAsync();
        Assert.Equal("LLM summary", summary.SummaryText);
        Assert.Contains("my name is Ada", client.LastRequest[1].Text, StringComparison.Ordinal);
    }
}
