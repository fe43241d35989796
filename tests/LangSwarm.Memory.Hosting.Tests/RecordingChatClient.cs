using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>
/// A scripted model: each call records the messages it was sent and answers with the script's next reply
/// (a function of what was sent). Streaming splits text replies into word updates.
/// </summary>
internal sealed class RecordingChatClient(Func<IReadOnlyList<ChatMessage>, ChatMessage> script) : IChatClient
{
    public List<List<ChatMessage>> Requests { get; } = [];

    /// <summary>Runs before each reply (e.g. to look at the store mid-loop).</summary>
    public Func<Task>? BeforeReply { get; set; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var sent = messages.ToList();
        Requests.Add(sent);
        if (BeforeReply is { } before)
        {
            await before().ConfigureAwait(false);
        }
        return new ChatResponse(script(sent)) { Usage = new UsageDetails { InputTokenCount = 10, OutputTokenCount = 5 } };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        var reply = response.Messages[0];
        var id = Guid.NewGuid().ToString("N");
        if (reply.Contents.All(c => c is TextContent))
        {
            var words = reply.Text.Split(' ');
            for (var i = 0; i < words.Length; i++)
            {
                yield return new ChatResponseUpdate(ChatRole.Assistant, i == 0 ? words[i] : " " + words[i]) { MessageId = id };
            }
        }
        else
        {
            yield return new ChatResponseUpdate(ChatRole.Assistant, reply.Contents) { MessageId = id };
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    /// <summary>A script: a tool call when the user asks for the weather, the tool's answer after its result, else an echo.</summary>
    public static ChatMessage WeatherScript(IReadOnlyList<ChatMessage> sent)
    {
        var last = sent[^1];
        if (last.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result)
        {
            return new ChatMessage(ChatRole.Assistant, $"The weather is {result.Result}.");
        }
        if (last.Text.Contains("weather", StringComparison.OrdinalIgnoreCase))
        {
            return new ChatMessage(ChatRole.Assistant, [new FunctionCallContent("call_" + sent.Count, "get_weather", new Dictionary<string, object?> { ["city"] = "Paris" })]);
        }
        return new ChatMessage(ChatRole.Assistant, "echo: " + last.Text);
    }
}
