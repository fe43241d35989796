namespace LangSwarm.Memory;

/// <summary>
/// What a backend persists for a session besides its messages: the metadata and the counters
/// that let the session layer decide eviction and summarization without reading messages.
/// </summary>
public sealed class SessionState
{
    /// <summary>Creates a state for new metadata with zeroed counters.</summary>
    public SessionState(SessionMetadata metadata)
    {
        Metadata = metadata;
    }

    /// <summary>The session's metadata.</summary>
    public SessionMetadata Metadata { get; set; }

    /// <summary>Sequence of the last message ever appended (0 when none).</summary>
    public long LastSequence { get; set; }

    /// <summary>Messages in the live window (appended and not evicted).</summary>
    public int LiveMessages { get; set; }

    /// <summary>Tokens of the messages in the live window.</summary>
    public long LiveTokens { get; set; }

    /// <summary>Sequence of the last message covered by an automatic summary (0 when none).</summary>
    public long SummarizedThrough { get; set; }

    /// <summary>A deep copy.</summary>
    public SessionState Clone() => new(Metadata.Clone())
    {
        LastSequence = LastSequence,
        LiveMessages = LiveMessages,
        LiveTokens = LiveTokens,
        SummarizedThrough = SummarizedThrough,
    };
}
