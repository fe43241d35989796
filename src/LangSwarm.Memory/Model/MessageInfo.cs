namespace LangSwarm.Memory;

/// <summary>
/// What a context-window or eviction decision needs to know of a message, without its body.
/// Backends with an index (the engine) answer these from the index alone.
/// </summary>
/// <param name="Sequence">Position in the session.</param>
/// <param name="Role">Author.</param>
/// <param name="TokenCount">Tokens of the message.</param>
/// <param name="Timestamp">When it was written (UTC).</param>
/// <param name="HasCalls">True for an assistant turn with tool or function calls.</param>
public readonly record struct MessageInfo(long Sequence, MessageRole Role, int TokenCount, DateTimeOffset Timestamp, bool HasCalls)
{
    /// <summary>Builds the info of a stored message.</summary>
    public static MessageInfo Of(Message m) => new(m.Sequence, m.Role, m.TokenCount ?? 0, m.Timestamp, m.HasCalls);
}
