using System.Text.Json.Nodes;

namespace LangSwarm.Memory;

/// <summary>One conversation: its messages, its metadata and its summaries.</summary>
public interface IMemorySession
{
    /// <summary>The session's id.</summary>
    string SessionId { get; }

    /// <summary>A copy of the session's metadata as this process last wrote or read it.</summary>
    SessionMetadata Metadata { get; }

    /// <summary>
    /// Adds a message. Fills <see cref="Message.TokenCount"/> when missing and assigns <see cref="Message.Sequence"/>.
    /// Returns once the message is stored: the automatic summaries and evictions it makes due run in the
    /// backend's background summarizer (<see cref="IMemoryBackend.WhenSummariesIdleAsync"/>), whose failures
    /// never reach the add.
    /// </summary>
    /// <exception cref="InvalidMessageException">The message is malformed.</exception>
    /// <exception cref="SessionNotFoundException">The session was deleted.</exception>
    Task AddMessageAsync(Message message, CancellationToken cancellationToken = default);

    /// <summary>Adds several messages at once, in order, as one write.</summary>
    Task AddMessagesAsync(IEnumerable<Message> messages, CancellationToken cancellationToken = default);

    /// <summary>
    /// Live messages, oldest first, optionally filtered by time (<paramref name="since"/>, inclusive) and role;
    /// with <paramref name="limit"/>, only the newest <paramref name="limit"/> of those.
    /// </summary>
    Task<IReadOnlyList<Message>> GetMessagesAsync(
        int? limit = null,
        DateTimeOffset? since = null,
        IReadOnlyCollection<MessageRole>? roles = null,
        CancellationToken cancellationToken = default);

    /// <summary>Streams live messages oldest first without holding the whole session in memory.</summary>
    IAsyncEnumerable<Message> StreamMessagesAsync(
        DateTimeOffset? since = null,
        IReadOnlyCollection<MessageRole>? roles = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// The newest messages, oldest first, whose tokens fit in <paramref name="tokenLimit"/>; never splits
    /// an assistant call from its tool results, never starts with an orphan tool result.
    /// </summary>
    Task<IReadOnlyList<Message>> GetRecentMessagesAsync(int tokenLimit = 4000, CancellationToken cancellationToken = default);

    /// <summary>
    /// What an LLM call should get within <paramref name="maxTokens"/>, which is never exceeded (tokens as the
    /// backend's token counter counted them, <see cref="Message.TokenCount"/>): the system messages, newest first
    /// while they fit (one that does not fit, even the newest alone, is left out with every older one; no
    /// exception), then, when older messages are left out, the newest summary of the chain that ends before the
    /// window's first message (a system message; nothing it covers is repeated), then the window: the newest
    /// other messages that fit, whole tool-call blocks only. Until a summary exists, the newest messages only.
    /// </summary>
    Task<IReadOnlyList<Message>> GetConversationContextAsync(int maxTokens = 8000, CancellationToken cancellationToken = default);

    /// <summary>
    /// Updates metadata. Known keys (<c>max_messages</c>, <c>max_tokens</c>, <c>auto_summarize_threshold</c>,
    /// <c>eviction_low_water</c>, <c>summary_strategy</c>, <c>status</c>; snake_case or PascalCase) set the typed fields; every other key is
    /// stored in <see cref="SessionMetadata.Metadata"/> (a null value removes it). The owner cannot change:
    /// <c>user_id</c> may only name the owner the session already has, and <c>session_id</c>, <c>created_at</c>,
    /// <c>updated_at</c> cannot be set at all; either is an <see cref="ArgumentException"/>, as is an invalid value,
    /// and then nothing of the update is applied.
    /// </summary>
    Task UpdateMetadataAsync(IReadOnlyDictionary<string, object?> updates, CancellationToken cancellationToken = default);

    /// <summary>Marks the session archived (read-only, kept).</summary>
    Task ArchiveSessionAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the session, its messages and its summaries.</summary>
    Task DeleteSessionAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Extends the session's summary chain now, synchronously: a summary that folds the newest summary and the
    /// live messages after it, covering the conversation from its first non-system message to the newest
    /// message. When nothing arrived since the chain's end, returns the newest summary (no summarizer call). The
    /// type defaults to <see cref="SummaryType.Auto"/>, as in the seed's <c>create_summary</c>.
    /// </summary>
    Task<ConversationSummary> CreateSummaryAsync(SummaryType summaryType = SummaryType.Auto, CancellationToken cancellationToken = default);

    /// <summary>All summaries of the session, oldest first.</summary>
    Task<IReadOnlyList<ConversationSummary>> GetSummariesAsync(CancellationToken cancellationToken = default);
}
