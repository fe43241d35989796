using System.Runtime.CompilerServices;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine;

/// <summary>
/// One engine session, over its index entry (found once, when the handle is made). Every write goes to the
/// engine with the entry, and the state it returns is the entry's own: the engine's record applier computes the
/// counters as it applies each record, so the handle never counts and never copies the state on an append.
/// </summary>
/// <remarks>
/// The handle works while the engine it was made on is open and the session is filed: a delete marks the
/// entry <see cref="SessionEntry.Removed"/> (a session created again under the id gets a new entry), and then
/// every call throws <see cref="SessionNotFoundException"/> before anything is written.
/// </remarks>
internal sealed class EngineSessionHandle : ISessionHandle
{
    /// <summary>Message entries read and decoded per segment read when streaming a session.</summary>
    private const int Page = 256;

    private readonly EngineSessionStore _store;
    private readonly StoreEngine _engine;
    private readonly SessionEntry _entry;

    private EngineSessionHandle(EngineSessionStore store, StoreEngine engine, SessionEntry entry, string sessionId, SessionSnapshot state)
    {
        _store = store;
        _engine = engine;
        _entry = entry;
        SessionId = sessionId;
        State = state;
    }

    /// <inheritdoc />
    public string SessionId { get; }

    /// <inheritdoc />
    public SessionSnapshot State { get; private set; }

    /// <summary>A handle over <paramref name="entry"/> of <paramref name="engine"/>; null when the entry was removed meanwhile.</summary>
    public static EngineSessionHandle? Over(EngineSessionStore store, StoreEngine engine, SessionEntry entry)
    {
        lock (entry.Lock)
        {
            return entry.Removed ? null : new(store, engine, entry, entry.State.Metadata.SessionId, SessionSnapshot.Of(entry.State));
        }
    }

    /// <inheritdoc />
    public Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        lock (_entry.Lock)
        {
            ThrowIfRemoved();
            State = SessionSnapshot.Of(_entry.State);
        }
        return Task.FromResult(State);
    }

    /// <inheritdoc />
    /// <remarks>Not an async method: an append the engine completes at once needs no state machine here.</remarks>
    public Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        long next;
        try
        {
            ThrowIfClosed();
            lock (_entry.Lock)
            {
                ThrowIfRemoved();
                next = _entry.State.LastSequence;
            }
        }
        catch (Exception ex)
        {
            return Task.FromException<SessionSnapshot>(ex);
        }
        for (var i = 0; i < messages.Count; i++)
        {
            messages[i].Sequence = ++next;
        }
        // The engine checks Removed again under the entry's lock before the log sees anything.
        Task append;
        try
        {
            append = _engine.AppendMessagesAsync(_entry, messages, updatedAt.UtcTicks);
        }
        catch (Exception ex)
        {
            append = Task.FromException(ex);
        }
        return append.IsCompletedSuccessfully ? Task.FromResult(Snapshot()) : AppendedAsync(append, messages);
    }

    /// <summary>The rest of <see cref="AppendAsync"/> once the engine's append completes (or failed).</summary>
    private async Task<SessionSnapshot> AppendedAsync(Task append, IReadOnlyList<Message> messages)
    {
        try
        {
            await append.ConfigureAwait(false);
        }
        catch
        {
            for (var i = 0; i < messages.Count; i++)
            {
                messages[i].Sequence = 0;
            }
            throw;
        }
        return Snapshot();
    }

    /// <inheritdoc />
    /// <remarks>Written as today: an Evict record, then the session's state record (FORMAT.md §4.4).</remarks>
    public async Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        var state = CopyState();
        await _engine.WriteStateAsync(_entry, state, evict: sequences).ConfigureAwait(false);
        return Snapshot();
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken)
    {
        var state = CopyState();
        state.SummarizedThrough = Math.Max(state.SummarizedThrough, summary.LastSequence);
        await _engine.WriteStateAsync(_entry, state, summary: summary).ConfigureAwait(false);
        return Snapshot();
    }

    /// <inheritdoc />
    public async Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
    {
        var state = CopyState();
        // Only encoded: the index keeps the state it decodes from the record, so the caller's metadata is not kept.
        state.Metadata = metadata;
        state.LastSequence = Math.Max(state.LastSequence, lastSequence);
        state.SummarizedThrough = summarizedThrough;
        await _engine.WriteStateAsync(_entry, state).ConfigureAwait(false);
        return Snapshot();
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ThrowIfGone();
        // Stream in pages so a long session is never held in memory whole.
        var picked = _engine.Pick(_entry, query);
        for (var i = 0; i < picked.Count; i += Page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = _engine.ReadEntries(_entry, picked.GetRange(i, Math.Min(Page, picked.Count - i)));
            foreach (var m in page)
            {
                yield return m;
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        ThrowIfGone();
        return Task.FromResult<IReadOnlyList<Message>>(_engine.ReadMessages(_entry, query, limit));
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        lock (_entry.Lock)
        {
            ThrowIfRemoved();
            var messages = _entry.LoadMessages();
            var infos = new MessageInfo[messages.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                infos[i] = Info(messages[i]);
            }
            return Task.FromResult<IReadOnlyList<MessageInfo>>(infos);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// Picked from the end of the session's range like <see cref="ReadNewestMessagesAsync"/>: from the entry list
    /// when it is in memory, otherwise from the index file's keys read backwards, so a session not read since the
    /// open is not loaded whole (<see cref="RangePicker"/>); no segment is read.
    /// </remarks>
    public Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ThrowIfGone();
        var picked = _engine.Pick(_entry, query, Math.Max(limit, 0));
        var infos = new MessageInfo[picked.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            infos[i] = Info(picked[i]);
        }
        return Task.FromResult<IReadOnlyList<MessageInfo>>(infos);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken)
    {
        ThrowIfClosed();
        lock (_entry.Lock)
        {
            ThrowIfRemoved();
            var summaries = _entry.LoadSummaries();
            var copies = new ConversationSummary[summaries.Count];
            for (var i = 0; i < copies.Length; i++)
            {
                copies[i] = summaries[i].Clone();
            }
            return Task.FromResult<IReadOnlyList<ConversationSummary>>(copies);
        }
    }

    private static MessageInfo Info(in MessageEntry m) =>
        new(m.Sequence, (MessageRole)m.Role, m.Tokens, new DateTimeOffset(m.TimeTicks, TimeSpan.Zero), m.HasCalls);

    /// <summary>The entry's state now (after a write: what the engine applied), kept as <see cref="State"/>.</summary>
    private SessionSnapshot Snapshot()
    {
        lock (_entry.Lock)
        {
            return State = SessionSnapshot.Of(_entry.State);
        }
    }

    /// <summary>A copy of the entry's state to build a state record from (rare writes only).</summary>
    private SessionState CopyState()
    {
        ThrowIfClosed();
        lock (_entry.Lock)
        {
            ThrowIfRemoved();
            return _entry.State.Clone();
        }
    }

    private void ThrowIfGone()
    {
        ThrowIfClosed();
        lock (_entry.Lock)
        {
            ThrowIfRemoved();
        }
    }

    /// <summary>Throws when the engine this handle was made on is no longer the store's open engine.</summary>
    private void ThrowIfClosed()
    {
        if (!ReferenceEquals(_store.Current, _engine))
        {
            throw EngineSessionStore.NotConnected();
        }
    }

    /// <summary>Throws when the session was removed (caller holds the entry's lock).</summary>
    private void ThrowIfRemoved()
    {
        if (_entry.Removed)
        {
            throw new SessionNotFoundException(SessionId);
        }
    }
}
