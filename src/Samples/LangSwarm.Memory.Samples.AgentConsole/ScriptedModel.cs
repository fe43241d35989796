using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;

namespace LangSwarm.Memory.Samples.AgentConsole;

/// <summary>
/// A stand-in for an LLM, so the sample runs anywhere: it answers by a few fixed rules, calls the
/// <c>get_time</c> tool when asked the time, and remembers a name only if the history it is sent holds it.
/// Replace it with a real <see cref="IChatClient"/> (OpenAI, Azure OpenAI, Ollama, ...).
/// </summary>
public sealed partial class ScriptedModel : IChatClient
{
    private int _calls;

    /// <summary>Every message list the model was sent, in order.</summary>
    public List<List<ChatMessage>> Requests { get; } = [];

    /// <inheritdoc />
    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var sent = messages.ToList();
        lock (Requests)
        {
            Requests.Add(sent);
        }
        return Task.FromResult(new ChatResponse(Answer(sent)));
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var response = await GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private ChatMessage Answer(List<ChatMessage> sent)
    {
        var last = sent[^1];
        if (last.Contents.OfType<FunctionResultContent>().FirstOrDefault() is { } result)
        {
            return new ChatMessage(ChatRole.Assistant, $"It is {result.Result} (UTC).");
        }
        var text = last.Text;
        if (text.Contains("time", StringComparison.OrdinalIgnoreCase))
        {
            var id = $"call_{Interlocked.Increment(ref _calls)}";
            return new ChatMessage(ChatRole.Assistant, [new FunctionCallContent(id, "get_time", new Dictionary<string, object?>())]);
        }
        if (NamePattern().Match(text) is { Success: true } told)
        {
            return new ChatMessage(ChatRole.Assistant, $"Nice to meet you, {told.Groups[1].Value}.");
        }
        if (text.Contains("my name", StringComparison.OrdinalIgnoreCase))
        {
            var known = sent.Select(m => NamePattern().Match(m.Text)).LastOrDefault(m => m.Success);
            return new ChatMessage(ChatRole.Assistant, known is null ? "I don't know your name yet." : $"Your name is {known.Groups[1].Value}.");
        }
        return new ChatMessage(ChatRole.Assistant, $"You said: {text}");
    }

    [GeneratedRegex(@"my name is (\w+)", RegexOptions.IgnoreCase)]
    private static partial Regex NamePattern();
}
