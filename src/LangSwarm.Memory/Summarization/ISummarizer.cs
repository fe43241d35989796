namespace LangSwarm.Memory;

/// <summary>Turns messages into a summary text.</summary>
public interface ISummarizer
{
    /// <summary>
    /// Summarizes <paramref name="messages"/>; with <paramref name="previousSummary"/>, folds them into it
    /// (the rolling strategy). The text must be valid UTF-16 of at most <see cref="MemoryLimits.MaxSummaryLength"/>
    /// characters; other text is refused with a <see cref="MemoryException"/> and nothing is stored.
    /// </summary>
    Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default);
}
