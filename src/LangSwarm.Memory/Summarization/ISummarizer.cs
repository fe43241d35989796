namespace LangSwarm.Memory;

/// <summary>Turns messages into a summary text.</summary>
public interface ISummarizer
{
    /// <summary>
    /// Summarizes <paramref name="messages"/>; with <paramref name="previousSummary"/>, folds them into it
    /// (the rolling strategy).
    /// </summary>
    Task<string> SummarizeAsync(IReadOnlyList<Message> messages, string? previousSummary, CancellationToken cancellationToken = default);
}
