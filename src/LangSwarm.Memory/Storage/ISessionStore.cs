namespace LangSwarm.Memory;

/// <summary>
/// The storage contract under the session layer: what a backend stores and how it finds it. The session layer
/// (<see cref="MemoryBackendBase"/>) owns policy — validation, ordering, eviction, summaries, context windows —
/// and calls a store for bytes; a store owns the stored state, including every counter (<see cref="SessionSnapshot"/>).
/// </summary>
/// <remarks>
/// Writes to one session arrive one at a time (the session layer holds that session's lock around each), so a
/// store needs no ordering of its own within a session; sessions are written concurrently. Reads may run beside
/// writes. A store never calls a summarizer or anything else outside its storage.
/// </remarks>
public interface ISessionStore : IAsyncDisposable
{
    /// <summary>Opens or creates the storage (called by connect).</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>Flushes and closes the storage (called by disconnect); handles handed out before stop working.</summary>
    Task CloseAsync(CancellationToken cancellationToken);

    /// <summary>
    /// True for a store opened only to read (a view beside another process's writer): its writes throw, and the
    /// session layer starts no background work (summaries, retention) over it.
    /// </summary>
    bool IsReadOnly => false;

    /// <summary>Problems a health probe finds (empty when healthy); throws when the storage is unreachable.</summary>
    Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken);

    /// <summary>Stores a new session with zeroed counters; null when the id exists.</summary>
    Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken);

    /// <summary>A handle on an existing session (one lookup), or null when there is none.</summary>
    Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Sessions matching the query, in <see cref="SessionQuery.Compare"/> order, paged.</summary>
    Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    /// <summary>Removes a session and all it holds; false when there was none. Its handles stop working.</summary>
    Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Ids of sessions (in <paramref name="status"/> when given) whose last activity is before <paramref name="cutoff"/>.</summary>
    Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken);

    /// <summary>Usage figures of the store.</summary>
    Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Ids of sessions that may owe an automatic summary or eviction (the background summarizer's work after
    /// connect), or null when the store does not keep track: the caller then pages through the active sessions.
    /// A store that answers may name more sessions than owe (each is checked), never fewer.
    /// </summary>
    Task<IReadOnlyList<string>?> FindSessionsOwingSummariesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>?>(null);
}

/// <summary>
/// One stored session, found once and kept by the session object that uses it. Every write returns the
/// session's new durable state, computed by the store from what it stored (the one owner of the counters).
/// </summary>
/// <remarks>
/// Once the session is removed (by anyone), every call throws <see cref="SessionNotFoundException"/>; a session
/// created again under the same id needs a new handle.
/// </remarks>
public interface ISessionHandle
{
    /// <summary>The session's id.</summary>
    string SessionId { get; }

    /// <summary>The state as of this handle's last write or refresh (no I/O).</summary>
    SessionSnapshot State { get; }

    /// <summary>Reads the stored state again (after another process or handle wrote).</summary>
    Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Appends messages with the sequences that follow the stored last sequence (set on each message, token
    /// counts already set by the caller) and marks the session active at <paramref name="updatedAt"/>, as one
    /// atomic change. When it throws, nothing was stored and the messages' sequences are 0.
    /// </summary>
    Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken);

    /// <summary>Takes live messages out of the window (unknown sequences are ignored), as one atomic change.</summary>
    Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken);

    /// <summary>
    /// Stores a summary and moves the summarized-through mark to <c>max(mark, summary.LastSequence)</c>, as one
    /// atomic change.
    /// </summary>
    Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the metadata; the last sequence becomes <c>max(stored, <paramref name="lastSequence"/>)</c> (a
    /// migration keeps its source's numbering) and the summarized-through mark <paramref name="summarizedThrough"/>.
    /// Live counters stay the store's own.
    /// </summary>
    Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken);

    /// <summary>Live messages matching the query, ascending by sequence.</summary>
    IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, CancellationToken cancellationToken);

    /// <summary>The newest <paramref name="limit"/> live messages matching the query, ascending.</summary>
    Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken);

    /// <summary>Index facts of every live message, ascending (no content read where the store can avoid it).</summary>
    Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Index facts of the newest <paramref name="limit"/> live messages matching <paramref name="query"/> (roles,
    /// time floor, sequence bounds), ascending by sequence: one page of a newest-first walk over the session.
    /// </summary>
    /// <remarks>
    /// <para>Fewer than <paramref name="limit"/> infos means no older live message matches. The next older page is
    /// the same query with <see cref="MessageQuery.ToSequence"/> one below the first sequence returned; evicted
    /// messages never appear. A <paramref name="limit"/> of 0 or less answers an empty list (the session is still
    /// checked: a removed one throws <see cref="SessionNotFoundException"/>).</para>
    /// <para>A store answers from its end of the session and costs what the page needs, not the session's length:
    /// a context of a long conversation reads the few pages its budget covers. The default implementation filters
    /// <see cref="ReadMessageInfosAsync"/> and exists only so that a store written before this member still works;
    /// every store of this repository answers it itself.</para>
    /// </remarks>
    Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
        MessageInfoPages.NewestOfAllAsync(this, query, limit, cancellationToken);

    /// <summary>The session's summaries, oldest first.</summary>
    Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken);
}
