namespace LangSwarm.Memory;

/// <summary>A filter over one session's live messages, applied by the backend.</summary>
public sealed record MessageQuery
{
    /// <summary>Everything.</summary>
    public static readonly MessageQuery All = new();

    /// <summary>Only messages at or after this time.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Only these roles (null: all).</summary>
    public IReadOnlyCollection<MessageRole>? Roles { get; init; }

    /// <summary>Only sequences at or above this one.</summary>
    public long FromSequence { get; init; }

    /// <summary>Only sequences at or below this one.</summary>
    public long ToSequence { get; init; } = long.MaxValue;

    /// <summary>True when the message passes the filter.</summary>
    public bool Matches(Message m) => Matches(m.Sequence, m.Timestamp, m.Role);

    /// <summary>True when a message with these attributes passes the filter.</summary>
    public bool Matches(long sequence, DateTimeOffset timestamp, MessageRole role) =>
        sequence >= FromSequence
        && sequence <= ToSequence
        && (Since is null || timestamp >= Since.Value)
        && (Roles is null || Roles.Contains(role));
}

/// <summary>A filter and page over sessions.</summary>
/// <param name="UserId">Only this user's sessions.</param>
/// <param name="Status">Only sessions in this state.</param>
/// <param name="Limit">Page size.</param>
/// <param name="Offset">Sessions skipped.</param>
public sealed record SessionQuery(string? UserId, SessionStatus? Status, int Limit, int Offset)
{
    /// <summary>True when the session passes the filter.</summary>
    public bool Matches(SessionMetadata m) =>
        (UserId is null || string.Equals(m.UserId, UserId, StringComparison.Ordinal))
        && (Status is null || m.Status == Status.Value);

    /// <summary>The listing order every backend uses: newest activity first, then session id.</summary>
    public static int Compare(SessionMetadata a, SessionMetadata b)
    {
        var c = b.UpdatedAt.UtcTicks.CompareTo(a.UpdatedAt.UtcTicks);
        return c != 0 ? c : string.CompareOrdinal(a.SessionId, b.SessionId);
    }
}
