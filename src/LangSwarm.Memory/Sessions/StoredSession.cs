using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;

namespace LangSwarm.Memory;

/// <summary>
/// The one implementation of <see cref="IMemorySession"/>: session behaviour over the session's store handle,
/// kept in a <see cref="SessionLink"/> shared by every session object of the same id. Writes take the link's
/// lock, which is never held across a summarizer call; reads take no lock. An add returns once its message is
/// stored: automatic summaries and the eviction they allow run in the backend's background summarizer.
/// </summary>
internal sealed class StoredSession : IMemorySession
{
    private readonly MemoryBackendBase _backend;
    private readonly string _sessionId;
    private readonly string? _owner;
    private SessionLink _link;

    /// <summary>A session object; with an <paramref name="owner"/>, it never reaches a session of another user.</summary>
    public StoredSession(MemoryBackendBase backend, SessionLink link, string? owner = null)
    {
        _backend = backend;
        _link = link;
        _sessionId = link.SessionId;
        _owner = owner;
    }

    public string SessionId => _sessionId;

    public SessionMetadata Metadata => _link.Handle.State.Metadata.Clone();

    public Task AddMessageAsync(Message message, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateMessage(message);
        return AddAsync([message], cancellationToken);
    }

    public Task AddMessagesAsync(IEnumerable<Message> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<Message> ?? messages.ToList();
        MemoryLimits.ValidateBatch(list.Count, nameof(messages));
        foreach (var m in list)
        {
            MessageValidator.ValidateMessage(m);
        }
        return list.Count == 0 ? Task.CompletedTask : AddAsync(list, cancellationToken);
    }

    public async Task<IReadOnlyList<Message>> GetMessagesAsync(
        int? limit = null,
        DateTimeOffset? since = null,
        IReadOnlyCollection<MessageRole>? roles = null,
        CancellationToken cancellationToken = default)
    {
        if (limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, "limit must not be negative.");
        }
        var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
        if (limit == 0 || roles is { Count: 0 })
        {
            return [];
        }
        var query = new MessageQuery { Since = since, Roles = roles };
        if (limit is { } n)
        {
            return await handle.ReadNewestMessagesAsync(query, n, cancellationToken).ConfigureAwait(false);
        }
        var list = new List<Message>();
        await foreach (var m in handle.ReadMessagesAsync(query, cancellationToken).ConfigureAwait(false))
        {
            list.Add(m);
        }
        return list;
    }

    public async IAsyncEnumerable<Message> StreamMessagesAsync(
        DateTimeOffset? since = null,
        IReadOnlyCollection<MessageRole>? roles = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
        var query = new MessageQuery { Since = since, Roles = roles };
        await foreach (var m in handle.ReadMessagesAsync(query, cancellationToken).ConfigureAwait(false))
        {
            yield return m;
        }
    }

    public async Task<IReadOnlyList<Message>> GetRecentMessagesAsync(int tokenLimit = 4000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenLimit);
        var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
        // Newest first, a page at a time: a long session costs the pages the budget covers.
        var pages = new NewestInfoPages(handle, includeSystem: true);
        var (infos, picked, _) = await pages.SelectNewestAsync(long.MinValue, tokenLimit, cancellationToken).ConfigureAwait(false);
        if (picked.Count == 0)
        {
            return [];
        }
        var query = new MessageQuery { FromSequence = infos[picked[0]].Sequence, ToSequence = infos[picked[^1]].Sequence };
        var list = new List<Message>(picked.Count);
        await foreach (var m in handle.ReadMessagesAsync(query, cancellationToken).ConfigureAwait(false))
        {
            list.Add(m);
        }
        return list;
    }

    public async Task<IReadOnlyList<Message>> GetConversationContextAsync(int maxTokens = 8000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        var started = Stopwatch.GetTimestamp();
        using var span = MemoryTelemetry.StartSessionSpan(MemoryTelemetry.Spans.Context, _backend.Name, _sessionId);
        try
        {
            var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
            var context = await ConversationContext.BuildAsync(handle, _backend.TokenCounter, maxTokens, cancellationToken).ConfigureAwait(false);
            MemoryTelemetry.ContextDurationHistogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, MemoryTelemetry.Backend(_backend.Name));
            span?.SetTag("langswarm.memory.context.messages", context.Count);
            return context;
        }
        catch (Exception ex)
        {
            MemoryTelemetry.Fail(span, ex);
            throw;
        }
    }

    public Task UpdateMetadataAsync(IReadOnlyDictionary<string, object?> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        return WriteMetadataAsync(
            m =>
            {
                MetadataUpdater.Apply(m, updates, ownerFixed: true);
                MemoryLimits.ValidateSessionSettings(m);
            },
            cancellationToken);
    }

    public Task ArchiveSessionAsync(CancellationToken cancellationToken = default) =>
        WriteMetadataAsync(m => m.Status = SessionStatus.Archived, cancellationToken);

    public async Task DeleteSessionAsync(CancellationToken cancellationToken = default)
    {
        var deleted = _owner is null
            ? await _backend.DeleteSessionAsync(SessionId, cancellationToken).ConfigureAwait(false)
            : await _backend.DeleteSessionAsync(SessionId, _owner, cancellationToken).ConfigureAwait(false);
        if (!deleted)
        {
            throw new SessionNotFoundException(SessionId);
        }
    }

    /// <summary>
    /// Extends the session's summary chain now through its newest message (the summarizer runs with no lock
    /// held) and returns the new summary; when nothing arrived since the chain's end, returns the newest summary.
    /// </summary>
    public async Task<ConversationSummary> CreateSummaryAsync(SummaryType summaryType = SummaryType.Auto, CancellationToken cancellationToken = default)
    {
        if (!Enum.IsDefined(summaryType))
        {
            throw new ArgumentOutOfRangeException(nameof(summaryType), summaryType, "Unknown summary type.");
        }
        for (var attempt = 0; ; attempt++)
        {
            var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
            var st = handle.State;
            var made = await SummaryChain.MakeAsync(handle, _backend.Summarizer, st, long.MaxValue, summaryType, _backend, cancellationToken).ConfigureAwait(false);
            if (made is null)
            {
                var existing = await handle.ReadSummariesAsync(cancellationToken).ConfigureAwait(false);
                return existing.Count > 0 ? existing[^1] : throw new MemoryException($"Session '{SessionId}' has no messages to summarize.");
            }
            var link = await EnterAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                // The chain moved while this summary was made (the background worker, another caller): make it
                // again from the new end, so the chain never forks. The first attempts are cheap to redo.
                if (link.Handle.State.SummarizedThrough == st.SummarizedThrough || attempt >= 3)
                {
                    await link.Handle.AddSummaryAsync(made, CancellationToken.None).ConfigureAwait(false);
                    return made;
                }
            }
            finally
            {
                link.Gate.Release();
            }
        }
    }

    public async Task<IReadOnlyList<ConversationSummary>> GetSummariesAsync(CancellationToken cancellationToken = default)
    {
        var handle = await HandleAsync(cancellationToken).ConfigureAwait(false);
        return await handle.ReadSummariesAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---- internals -------------------------------------------------------------------------------------------

    /// <summary>An add: measured only while something listens, so an unobserved add pays no extra frame.</summary>
    private Task AddAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken) =>
        MemoryTelemetry.AddsObserved ? AddCoreAsync(messages, cancellationToken) : AddUnmeasuredAsync(messages, cancellationToken);

    /// <summary>An add, measured and traced (<see cref="MemoryTelemetry"/>): counts on success only.</summary>
    private async Task AddCoreAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = MemoryTelemetry.StartSessionSpan(MemoryTelemetry.Spans.Add, _backend.Name, _sessionId);
        try
        {
            await AddUnmeasuredAsync(messages, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MemoryTelemetry.Fail(span, ex);
            throw;
        }
        var backend = MemoryTelemetry.Backend(_backend.Name);
        MemoryTelemetry.AddDurationHistogram.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, backend);
        MemoryTelemetry.MessagesAddedCounter.Add(messages.Count, backend);
        if (MemoryTelemetry.BytesAddedCounter.Enabled)
        {
            long bytes = 0;
            for (var i = 0; i < messages.Count; i++)
            {
                bytes += Encoding.UTF8.GetByteCount(messages[i].Content);
            }
            MemoryTelemetry.BytesAddedCounter.Add(bytes, backend);
        }
        span?.SetTag("langswarm.memory.messages", messages.Count);
    }

    private async Task AddUnmeasuredAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        var counter = _backend.TokenCounter;
        // Count tokens outside the session lock: it is the costly part of an add.
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            m.TokenCount ??= counter.CountMessageTokens(m);
        }
        _backend.EnsureConnected();
        var link = await EnterAsync(cancellationToken).ConfigureAwait(false);
        SessionSnapshot st;
        try
        {
            var before = link.Handle.State;
            if (before.Metadata.Status == SessionStatus.Archived)
            {
                throw new SessionArchivedException(SessionId);
            }
            st = await link.Handle.AppendAsync(messages, Now(before.Metadata), cancellationToken).ConfigureAwait(false);
            if (st.OverLimits && !SummaryChain.Automatic(st.Metadata))
            {
                // No summaries to wait for: the chunk goes now. The add already succeeded, so a failure here is
                // reported (health) and retried by the next add, never thrown.
                try
                {
                    await SessionEviction.EvictAsync(link.Handle, long.MaxValue, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    _backend.RecordError($"evicting from session '{SessionId}' failed: {ex.Message}");
                    MemoryLog.EvictionFailed(_backend.Logger, SessionId, _backend.Name, ex);
                }
                return;
            }
        }
        finally
        {
            link.Gate.Release();
        }
        if (SummaryChain.Due(st))
        {
            _backend.QueueSummary(link);
        }
    }

    private async Task WriteMetadataAsync(Action<SessionMetadata> change, CancellationToken cancellationToken)
    {
        _backend.EnsureConnected();
        var link = await EnterAsync(cancellationToken).ConfigureAwait(false);
        SessionSnapshot st;
        try
        {
            var before = await link.Handle.RefreshAsync(cancellationToken).ConfigureAwait(false);
            EnsureOwned(before.Metadata);
            var copy = before.Metadata.Clone();
            change(copy);
            copy.UpdatedAt = Now(copy);
            st = await link.Handle.SaveAsync(copy, before.LastSequence, before.SummarizedThrough, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            link.Gate.Release();
        }
        // New limits or a new strategy may leave the session due.
        if (SummaryChain.Due(st))
        {
            _backend.QueueSummary(link);
        }
    }

    /// <summary>The session's handle; when its link closed (removed, reconnected), the session found again by id.</summary>
    private async ValueTask<ISessionHandle> HandleAsync(CancellationToken cancellationToken)
    {
        _backend.EnsureConnected();
        var link = _link;
        if (link.Closed)
        {
            link = await _backend.FindLinkAsync(_sessionId, cancellationToken).ConfigureAwait(false) ?? throw new SessionNotFoundException(_sessionId);
            EnsureOwned(link.Handle.State.Metadata);
            _link = link;
        }
        return link.Handle;
    }

    /// <summary>Takes the session's write lock on an open link (finding the session again when its link closed).</summary>
    private ValueTask<SessionLink> EnterAsync(CancellationToken cancellationToken)
    {
        // The common case, an open link and a free lock, without a state machine: every add comes through here.
        _backend.EnsureConnected();
        var link = _link;
        if (!link.Closed)
        {
            var entered = link.Gate.WaitAsync(cancellationToken);
            if (!entered.IsCompletedSuccessfully)
            {
                return EnterAfterAsync(link, entered, cancellationToken);
            }
            if (!link.Closed)
            {
                return new ValueTask<SessionLink>(link);
            }
            link.Gate.Release();
        }
        return EnterSlowAsync(cancellationToken);
    }

    /// <summary><see cref="EnterAsync"/> once the lock of <paramref name="link"/> is being waited for.</summary>
    private async ValueTask<SessionLink> EnterAfterAsync(SessionLink link, Task entered, CancellationToken cancellationToken)
    {
        await entered.ConfigureAwait(false);
        if (!link.Closed)
        {
            return link;
        }
        link.Gate.Release();
        return await EnterSlowAsync(cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<SessionLink> EnterSlowAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await HandleAsync(cancellationToken).ConfigureAwait(false);
            var link = _link;
            await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!link.Closed)
            {
                return link;
            }
            link.Gate.Release();
        }
    }

    /// <summary>
    /// A session object bound to an owner answers a session of another user (its id deleted and taken since) as
    /// a session that does not exist.
    /// </summary>
    private void EnsureOwned(SessionMetadata metadata)
    {
        if (_owner is not null && !MemoryBackendBase.Owns(metadata, _owner))
        {
            throw new SessionNotFoundException(_sessionId);
        }
    }

    /// <summary>Activity time: the clock, but never before the last recorded activity (clocks can step back).</summary>
    private DateTimeOffset Now(SessionMetadata m)
    {
        var now = _backend.Clock.GetUtcNow();
        return now > m.UpdatedAt ? now : m.UpdatedAt;
    }
}
