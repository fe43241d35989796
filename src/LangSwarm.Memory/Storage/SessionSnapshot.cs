namespace LangSwarm.Memory;

/// <summary>
/// A session's stored state at one moment: its metadata and the counters that let the session layer decide
/// eviction and summaries without reading messages. Made by the store (<see cref="ISessionHandle"/>), which
/// alone computes the counters.
/// </summary>
/// <param name="Metadata">The metadata, shared with the store: read it, never change it (clone first).</param>
/// <param name="LastSequence">Sequence of the last message ever appended (0 when none).</param>
/// <param name="LiveMessages">Messages in the live window (appended and not evicted).</param>
/// <param name="LiveTokens">Tokens of the messages in the live window.</param>
/// <param name="SummarizedThrough">Sequence of the last message the summary chain covers (0 when none).</param>
public readonly record struct SessionSnapshot(SessionMetadata Metadata, long LastSequence, int LiveMessages, long LiveTokens, long SummarizedThrough)
{
    /// <summary>The snapshot of a state object (no copy of its metadata).</summary>
    public static SessionSnapshot Of(SessionState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new(state.Metadata, state.LastSequence, state.LiveMessages, state.LiveTokens, state.SummarizedThrough);
    }

    /// <summary>True when the live window is over either of the session's limits.</summary>
    public bool OverLimits => LiveMessages > Metadata.MaxMessages || LiveTokens > Metadata.MaxTokens;

    /// <summary>A mutable copy (metadata cloned).</summary>
    public SessionState ToState() => new(Metadata.Clone())
    {
        LastSequence = LastSequence,
        LiveMessages = LiveMessages,
        LiveTokens = LiveTokens,
        SummarizedThrough = SummarizedThrough,
    };
}
