namespace LangSwarm.Memory;

/// <summary>A summary of part of a conversation, stored through the backend like a message.</summary>
public sealed class ConversationSummary
{
    private DateTimeOffset _createdAt = DateTimeOffset.UtcNow;

    /// <summary>Identifier of the summary.</summary>
    public string SummaryId { get; set; } = Message.NewId();

    /// <summary>The session summarized.</summary>
    public string SessionId { get; set; } = string.Empty;

    /// <summary>The summary text.</summary>
    public string SummaryText { get; set; } = string.Empty;

    /// <summary>How many messages the summary covers.</summary>
    public int MessageCount { get; set; }

    /// <summary>How many tokens the covered messages held.</summary>
    public int TokenCount { get; set; }

    /// <summary>When the summary was made (UTC).</summary>
    public DateTimeOffset CreatedAt
    {
        get => _createdAt;
        set => _createdAt = value.ToUniversalTime();
    }

    /// <summary>Why the summary was made.</summary>
    public SummaryType SummaryType { get; set; } = SummaryType.Auto;

    /// <summary>Sequence of the first message covered.</summary>
    public long FirstSequence { get; set; }

    /// <summary>Sequence of the last message covered.</summary>
    public long LastSequence { get; set; }

    /// <summary>A copy.</summary>
    public ConversationSummary Clone() => (ConversationSummary)MemberwiseClone();
}
