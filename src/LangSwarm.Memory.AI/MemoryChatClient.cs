using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory.AI;

/// <summary>
/// A chat client that keeps its conversation in a LangSwarm memory session. Before a call it loads the session's
/// token-budgeted context (system messages, the summary, the newest turns) and sends it ahead of the request;
/// after the call it stores the request and the response (a streamed one once the stream ends) in one add. The
/// session is the call's <c>ChatOptions.ConversationId</c>, else <see cref="MemoryChatClientOptions.SessionId"/>;
/// with neither the call passes through. A failed call stores nothing; the conversation id is not passed on to
/// the inner client (this client holds the history).
/// </summary>
internal sealed class MemoryChatClient(IChatClient inner, IMemoryManager manager, MemoryChatClientOptions settings, ILogger logger)
    : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (SessionOf(options) is not { } sessionId)
        {
            return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        var request = messages.ToList();
        var session = await MemorySessions.GetOrCreateAsync(manager, sessionId, settings.UserId, cancellationToken).ConfigureAwait(false);
        var prepared = await PrepareAsync(session, request, cancellationToken).ConfigureAwait(false);
        var response = await base.GetResponseAsync(prepared, WithoutConversation(options), cancellationToken).ConfigureAwait(false);
        await StoreAsync(session, request, response.Messages, cancellationToken).ConfigureAwait(false);
        if (settings.ReturnConversationId)
        {
            response.ConversationId = sessionId;
        }
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages,
        ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        if (SessionOf(options) is not { } sessionId)
        {
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
            {
                yield return update;
            }
            yield break;
        }
        var request = messages.ToList();
        var session = await MemorySessions.GetOrCreateAsync(manager, sessionId, settings.UserId, cancellationToken).ConfigureAwait(false);
        var prepared = await PrepareAsync(session, request, cancellationToken).ConfigureAwait(false);
        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in base.GetStreamingResponseAsync(prepared, WithoutConversation(options), cancellationToken).ConfigureAwait(false))
        {
            updates.Add(update);
            if (settings.ReturnConversationId)
            {
                update.ConversationId = sessionId;
            }
            yield return update;
        }
        await StoreAsync(session, request, updates.ToChatResponse().Messages, cancellationToken).ConfigureAwait(false);
    }

    private string? SessionOf(ChatOptions? callOptions) => callOptions?.ConversationId ?? settings.SessionId;

    private static ChatOptions? WithoutConversation(ChatOptions? callOptions)
    {
        if (callOptions?.ConversationId is null)
        {
            return callOptions;
        }
        var copy = callOptions.Clone();
        copy.ConversationId = null;
        return copy;
    }

    private async Task<List<ChatMessage>> PrepareAsync(IMemorySession session, List<ChatMessage> request, CancellationToken cancellationToken)
    {
        var context = await session.GetConversationContextAsync(settings.MaxContextTokens, cancellationToken).ConfigureAwait(false);
        MemoryLog.HistoryLoaded(logger, context.Count, session.SessionId, settings.MaxContextTokens);
        var prepared = context.ToChatMessages();
        prepared.AddRange(request);
        return prepared;
    }

    private async Task StoreAsync(IMemorySession session, List<ChatMessage> request, IList<ChatMessage> response, CancellationToken cancellationToken)
    {
        var kept = settings.StoreSystemMessages ? request : request.Where(m => m.Role != ChatRole.System);
        var stored = MemorySessions.ToStored(kept.Concat(response));
        await session.AddMessagesAsync(stored, cancellationToken).ConfigureAwait(false);
        MemoryLog.HistoryStored(logger, stored.Count, session.SessionId);
    }
}
