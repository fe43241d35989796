namespace LangSwarm.Memory;

/// <summary>
/// A whole stored session as one value: its metadata, its numbering (last sequence and summarized-through mark),
/// its live messages and its summary chain. What an export writes, an import reads and a copy moves.
/// </summary>
public sealed class PortableSession
{
    /// <summary>Creates a record.</summary>
    /// <exception cref="ArgumentNullException">A member is null.</exception>
    public PortableSession(SessionMetadata metadata, long lastSequence, long summarizedThrough, IReadOnlyList<Message> messages, IReadOnlyList<ConversationSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(messages);
        ArgumentNullException.ThrowIfNull(summaries);
        Metadata = metadata;
        LastSequence = lastSequence;
        SummarizedThrough = summarizedThrough;
        Messages = messages;
        Summaries = summaries;
    }

    /// <summary>The session's id (<see cref="SessionMetadata.SessionId"/>).</summary>
    public string SessionId => Metadata.SessionId;

    /// <summary>The session's metadata, timestamps and settings included.</summary>
    public SessionMetadata Metadata { get; }

    /// <summary>The highest sequence the session ever gave a message (evicted messages included).</summary>
    public long LastSequence { get; }

    /// <summary>The sequence through which the summary chain covers the conversation (0: none).</summary>
    public long SummarizedThrough { get; }

    /// <summary>The live messages, ascending by <see cref="Message.Sequence"/>.</summary>
    public IReadOnlyList<Message> Messages { get; }

    /// <summary>The summaries, oldest first.</summary>
    public IReadOnlyList<ConversationSummary> Summaries { get; }
}
