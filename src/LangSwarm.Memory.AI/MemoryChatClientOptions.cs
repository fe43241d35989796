namespace LangSwarm.Memory.AI;

/// <summary>How <c>ChatClientBuilder.UseLangSwarmMemory</c> uses the store.</summary>
public sealed class MemoryChatClientOptions
{
    /// <summary>
    /// The session used when a call's <c>ChatOptions.ConversationId</c> is not set (null: such calls pass through
    /// without memory).
    /// </summary>
    public string? SessionId { get; set; }

    /// <summary>
    /// The owner given to sessions this client creates, and the only user whose sessions it uses: a session id naming
    /// another user's session (or one without an owner) is a <see cref="SessionAccessDeniedException"/>, before
    /// anything is sent or stored. Null: sessions are created without an owner and used by id whoever owns them
    /// (a single-user app).
    /// </summary>
    public string? UserId { get; set; }

    /// <summary>Token budget of the context loaded before each call (default 8,000).</summary>
    public int MaxContextTokens { get; set; } = 8000;

    /// <summary>
    /// Whether system messages of a request are stored too. Default false: a request's system messages are
    /// per-call instructions, sent but not kept (they would pile up in the session).
    /// </summary>
    public bool StoreSystemMessages { get; set; }

    /// <summary>
    /// Whether responses carry the session id as their <c>ConversationId</c> (default true), so callers, and a
    /// <c>FunctionInvokingChatClient</c> above this one, send only new messages next time.
    /// </summary>
    public bool ReturnConversationId { get; set; } = true;
}
