using Microsoft.Extensions.AI;

namespace LangSwarm.Memory.AI;

/// <summary>
/// What the chat integrations share: finding or creating a session by id, and turning chat messages into the
/// messages a session stores (through the one mapping, <see cref="ChatMessageConversion"/>).
/// </summary>
internal static class MemorySessions
{
    /// <summary>
    /// The session <paramref name="sessionId"/>, created for <paramref name="userId"/> when missing. With a user, only
    /// that user's session is used (<see cref="IMemoryManager.GetOrCreateSessionAsync"/>): an id naming another user's
    /// session, or one without an owner, is a <see cref="SessionAccessDeniedException"/>.
    /// </summary>
    public static async Task<IMemorySession> GetOrCreateAsync(IMemoryManager manager, string sessionId, string? userId, CancellationToken cancellationToken)
    {
        if (userId is not null)
        {
            return await manager.GetOrCreateSessionAsync(userId, sessionId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        for (var attempt = 0; ; attempt++)
        {
            if (await manager.GetSessionAsync(sessionId, cancellationToken).ConfigureAwait(false) is { } found)
            {
                return found;
            }
            try
            {
                return await manager.CreateSessionAsync(userId, sessionId, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (SessionAlreadyExistsException) when (attempt < 3)
            {
                // Created meanwhile by another caller: read it.
            }
        }
    }

    /// <summary>The stored messages of chat messages, in order (a message with several results gives several).</summary>
    public static List<Message> ToStored(IEnumerable<ChatMessage> messages)
    {
        var stored = new List<Message>();
        foreach (var m in messages)
        {
            stored.AddRange(ChatMessageConversion.FromChatMessage(m));
        }
        return stored;
    }
}
