using System.Text;
using Microsoft.Extensions.AI;

namespace LangSwarm.Memory;

/// <summary>Summarizes with a real LLM through any <see cref="IChatClient"/> (OpenAI, Azure, Ollama, ...).</summary>
public sealed class ChatClientSummarizer : ISummarizer
{
    /// <summary>The instruction sent as the system prompt.</summary>
    public const string DefaultPrompt =
        "Summarize the conversation below for a future turn of the same assistant. Keep facts, decisions, open " +
        "questions, names, numbers and tool results; drop greetings. Write at most 150 words of plain prose.";

    private readonly IChatClient _client;
    private readonly ChatOptions? _options;
    private readonly string _prompt;

    /// <summary>Creates the summarizer over a chat client.</summary>
    public ChatClientSummarizer(IChatClient client, ChatOptions? options = null, string? prompt = null)
    {
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _options = options;
        _prompt = prompt ?? DefaultPrompt;
    }

    /// <inheritdoc />
    public async Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var transcript = new StringBuilder();
        if (!string.IsNullOrWhiteSpace(previousSummary))
        {
            transcript.Append("Summary so far: ").AppendLine(previousSummary).AppendLine();
        }
        foreach (var m in messages)
        {
            transcript.Append(m.Role.ToWireName()).Append(": ").Append(m.Content);
            if (m.ToolCalls is { Count: > 0 } calls)
            {
                transcript.Append(" [tool calls: ").Append(calls.ToJsonString()).Append(']');
            }
            if (m.FunctionCall is { } fc)
            {
                transcript.Append(" [function call: ").Append(fc.ToJsonString()).Append(']');
            }
            transcript.AppendLine();
        }
        ChatMessage[] request =
        [
            new(ChatRole.System, _prompt),
            new(ChatRole.User, transcript.ToString()),
        ];
        ChatResponse response;
        try
        {
            response = await _client.GetResponseAsync(request, _options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new MemoryException($"The chat client failed to summarize: {ex.Message}", ex);
        }
        var text = response.Text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            throw new MemoryException("The chat client returned an empty summary.");
        }
        return text;
    }
}
