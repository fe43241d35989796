using System.Runtime.CompilerServices;

namespace LangSwarm.Memory;

/// <summary>
/// The one implementation of <see cref="IMemorySession"/>: session behaviour over a backend's primitives.
/// Writes to one session are ordered by the backend's per-session lock; reads take no lock.
/// </summary>
internal sealed class StoredSession : IMemorySession
{
    private readonly MemoryBackendBase _backend;
    private SessionMetadata _metadata;

    public StoredSession(MemoryBackendBase backend, SessionMetadata metadata)
    {
        _backend = backend;
        _metadata = metadata;
    }

    public string SessionId => _metadata.SessionId;

    public SessionMetadata Metadata => _metadata.Clone();

    public Task AddMessageAsync(Message message, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateMessage(message);
        return AddCoreAsync([message], cancellationToken);
    }

    public Task AddMessagesAsync(IEnumerable<Message> messages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var list = messages as IReadOnlyList<Message> ?? messages.ToList();
        foreach (var m in list)
        {
            MessageValidator.ValidateMessage(m);
        }
        return list.Count == 0 ? Task.CompletedTask : AddCoreAsync(list, cancellationToken);
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
        await RequireStateAsync(cancellationToken).ConfigureAwait(false);
        if (limit == 0 || roles is { Count: 0 })
        {
            return [];
        }
        var query = new MessageQuery { Since = since, Roles = roles };
        if (limit is { } n)
        {
            return await _backend.ReadNewestMessagesAsync(SessionId, query, n, cancellationToken).ConfigureAwait(false);
        }
        var list = new List<Message>();
        await foreach (var m in _backend.ReadMessagesAsync(SessionId, query, cancellationToken).ConfigureAwait(false))
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
        await RequireStateAsync(cancellationToken).ConfigureAwait(false);
        var query = new MessageQuery { Since = since, Roles = roles };
        await foreach (var m in _backend.ReadMessagesAsync(SessionId, query, cancellationToken).ConfigureAwait(false))
        {
            yield return m;
        }
    }

    public async Task<IReadOnlyList<Message>> GetRecentMessagesAsync(int tokenLimit = 4000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokenLimit);
        await RequireStateAsync(cancellationToken).ConfigureAwait(false);
        var infos = await _backend.ReadMessageInfosAsync(SessionId, cancellationToken).ConfigureAwait(false);
        var picked = ContextWindow.SelectNewest(infos, tokenLimit);
        if (picked.Count == 0)
        {
            return [];
        }
        return await ReadRangeAsync(infos[picked[0]].Sequence, infos[picked[^1]].Sequence, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<Message>> GetConversationContextAsync(int maxTokens = 8000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        await RequireStateAsync(cancellationToken).ConfigureAwait(false);
        var infos = await _backend.ReadMessageInfosAsync(SessionId, cancellationToken).ConfigureAwait(false);

        var rest = new List<MessageInfo>(infos.Count);
        foreach (var i in infos)
        {
            if (i.Role != MessageRole.System)
            {
                rest.Add(i);
            }
        }

        var (firstSystem, systemTokens) = ContextWindow.SelectSystem(infos, maxTokens);
        var budget = maxTokens - systemTokens;
        var picked = ContextWindow.SelectNewest(rest, budget);
        Message? summaryMessage = null;
        var state = await _backend.LoadSessionAsync(SessionId, cancellationToken).ConfigureAwait(false);
        var leftOut = picked.Count < rest.Count || (state is not null && state.LastSequence > infos.Count);
        if (leftOut)
        {
            var summaries = await _backend.ReadSummariesAsync(SessionId, cancellationToken).ConfigureAwait(false);
            if (summaries.Count > 0)
            {
                var candidate = SummaryAsMessage(summaries[^1]);
                var cost = _backend.TokenCounter.CountMessageTokens(candidate);
                candidate.TokenCount = cost;
                if (cost <= budget)
                {
                    summaryMessage = candidate;
                    picked = ContextWindow.SelectNewest(rest, budget - cost);
                }
            }
        }

        var result = new List<Message>(picked.Count + 8);
        if (firstSystem is { } fromSystem)
        {
            var roles = new[] { MessageRole.System };
            await foreach (var m in _backend.ReadMessagesAsync(SessionId, new MessageQuery { Roles = roles, FromSequence = fromSystem }, cancellationToken).ConfigureAwait(false))
            {
                result.Add(m);
            }
        }
        if (summaryMessage is not null)
        {
            result.Add(summaryMessage);
        }
        if (picked.Count > 0)
        {
            var from = rest[picked[0]].Sequence;
            var to = rest[picked[^1]].Sequence;
            await foreach (var m in _backend.ReadMessagesAsync(SessionId, new MessageQuery { FromSequence = from, ToSequence = to }, cancellationToken).ConfigureAwait(false))
            {
                if (m.Role != MessageRole.System)
                {
                    result.Add(m);
                }
            }
        }
        return result;
    }

    public async Task UpdateMetadataAsync(IReadOnlyDictionary<string, object?> updates, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(updates);
        await WithStateAsync(
            state =>
            {
                var copy = state.Metadata.Clone();
                MetadataUpdater.Apply(copy, updates, ownerFixed: true);
                MemoryBackendBase.ValidateLimits(copy);
                copy.UpdatedAt = Now(copy);
                state.Metadata = copy;
                return _backend.SaveSessionAsync(state, cancellationToken);
            },
            cancellationToken).ConfigureAwait(false);
    }

    public Task ArchiveSessionAsync(CancellationToken cancellationToken = default) =>
        WithStateAsync(
            state =>
            {
                state.Metadata.Status = SessionStatus.Archived;
                state.Metadata.UpdatedAt = Now(state.Metadata);
                return _backend.SaveSessionAsync(state, cancellationToken);
            },
            cancellationToken);

    public async Task DeleteSessionAsync(CancellationToken cancellationToken = default)
    {
        if (!await _backend.DeleteSessionAsync(SessionId, cancellationToken).ConfigureAwait(false))
        {
            throw new SessionNotFoundException(SessionId);
        }
    }

    public async Task<ConversationSummary> CreateSummaryAsync(SummaryType summaryType = SummaryType.Auto, CancellationToken cancellationToken = default)
    {
        if (!Enum.IsDefined(summaryType))
        {
            throw new ArgumentOutOfRangeException(nameof(summaryType), summaryType, "Unknown summary type.");
        }
        ConversationSummary? made = null;
        await WithStateAsync(
            async state =>
            {
                var fresh = await ReadLiveAsync(state.SummarizedThrough + 1, cancellationToken).ConfigureAwait(false);
                if (fresh.Count == 0)
                {
                    fresh = await ReadLiveAsync(0, cancellationToken).ConfigureAwait(false);
                }
                if (fresh.Count == 0)
                {
                    throw new MemoryException($"Session '{SessionId}' has no messages to summarize.");
                }
                made = await SummarizeAsync(state, fresh, summaryType, null, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
        return made!;
    }

    public async Task<IReadOnlyList<ConversationSummary>> GetSummariesAsync(CancellationToken cancellationToken = default)
    {
        await RequireStateAsync(cancellationToken).ConfigureAwait(false);
        return await _backend.ReadSummariesAsync(SessionId, cancellationToken).ConfigureAwait(false);
    }

    // ---- internals -------------------------------------------------------------------------------------------

    private async Task AddCoreAsync(IReadOnlyList<Message> messages, CancellationToken cancellationToken)
    {
        var counter = _backend.TokenCounter;
        // Count tokens outside the session lock: it is the costly part of an add. Backends copy or serialize
        // what they store, so the caller's objects are handed down as they are.
        long tokens = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            m.TokenCount ??= counter.CountMessageTokens(m);
            tokens += m.TokenCount.Value;
        }

        // The body of WithStateAsync, written out: the add is the hot path, and the closure, delegate and
        // extra state machine that WithStateAsync costs per call were a measurable part of a 1-KB add.
        _backend.EnsureConnected();
        var gate = _backend.LockFor(SessionId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await _backend.LoadSessionAsync(SessionId, cancellationToken).ConfigureAwait(false)
                ?? throw new SessionNotFoundException(SessionId);
            if (state.Metadata.Status == SessionStatus.Archived)
            {
                throw new SessionArchivedException(SessionId);
            }
            for (var i = 0; i < messages.Count; i++)
            {
                messages[i].Sequence = state.LastSequence + 1 + i;
            }
            state.LastSequence += messages.Count;
            state.LiveMessages += messages.Count;
            state.LiveTokens += tokens;
            state.Metadata.UpdatedAt = Now(state.Metadata);
            try
            {
                await _backend.AppendMessagesAsync(state, messages, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                for (var i = 0; i < messages.Count; i++)
                {
                    messages[i].Sequence = 0;
                }
                throw;
            }
            await EnforceLimitsAsync(state, cancellationToken).ConfigureAwait(false);
            await AutoSummarizeAsync(state, cancellationToken).ConfigureAwait(false);
            _metadata = state.Metadata;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Moves the oldest non-system messages out of the live window when a limit is passed, down to the session's
    /// low-water mark (<see cref="SessionMetadata.EvictionLowWater"/>), so eviction and its one summary happen
    /// once per chunk of adds rather than on every add.
    /// </summary>
    private async Task EnforceLimitsAsync(SessionState state, CancellationToken cancellationToken)
    {
        var m = state.Metadata;
        if (state.LiveMessages <= m.MaxMessages && state.LiveTokens <= m.MaxTokens)
        {
            return;
        }
        var infos = await _backend.ReadMessageInfosAsync(SessionId, cancellationToken).ConfigureAwait(false);
        var evict = ContextWindow.SelectEvictions(infos, m.MaxMessages, m.MaxTokens, m.EvictionLowWater);
        if (evict.Count == 0)
        {
            return;
        }
        if (m.SummaryStrategy != SummaryStrategy.Manual && m.AutoSummarizeThreshold > 0)
        {
            // Summarize what is about to leave and has not been summarized yet, so nothing goes silently.
            var unsummarized = new List<Message>();
            var lastEvicted = evict[^1];
            await foreach (var msg in _backend.ReadMessagesAsync(SessionId, new MessageQuery { FromSequence = state.SummarizedThrough + 1, ToSequence = lastEvicted }, cancellationToken).ConfigureAwait(false))
            {
                if (evict.BinarySearch(msg.Sequence) >= 0)
                {
                    unsummarized.Add(msg);
                }
            }
            if (unsummarized.Count > 0)
            {
                await SummarizeAsync(state, unsummarized, SummaryType.Auto, null, cancellationToken).ConfigureAwait(false);
            }
        }
        long freed = 0;
        var set = new HashSet<long>(evict);
        foreach (var i in infos)
        {
            if (set.Contains(i.Sequence))
            {
                freed += i.TokenCount;
            }
        }
        state.LiveMessages -= evict.Count;
        state.LiveTokens -= freed;
        await _backend.RemoveMessagesAsync(state, evict, cancellationToken).ConfigureAwait(false);
    }

    private async Task AutoSummarizeAsync(SessionState state, CancellationToken cancellationToken)
    {
        var m = state.Metadata;
        if (m.SummaryStrategy == SummaryStrategy.Manual || m.AutoSummarizeThreshold <= 0
            || state.LastSequence - state.SummarizedThrough < m.AutoSummarizeThreshold)
        {
            return;
        }
        var fresh = await ReadLiveAsync(state.SummarizedThrough + 1, cancellationToken).ConfigureAwait(false);
        if (fresh.Count == 0)
        {
            state.SummarizedThrough = state.LastSequence;
            await _backend.SaveSessionAsync(state, cancellationToken).ConfigureAwait(false);
            return;
        }
        if (m.SummaryStrategy == SummaryStrategy.Periodic)
        {
            await SummarizeAsync(state, fresh, SummaryType.Periodic, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        var previous = await _backend.ReadSummariesAsync(SessionId, cancellationToken).ConfigureAwait(false);
        await SummarizeAsync(state, fresh, SummaryType.Auto, previous.Count > 0 ? previous[^1] : null, cancellationToken).ConfigureAwait(false);
    }

    private async Task<ConversationSummary> SummarizeAsync(
        SessionState state,
        IReadOnlyList<Message> messages,
        SummaryType type,
        ConversationSummary? rollingFrom,
        CancellationToken cancellationToken)
    {
        var text = await _backend.Summarizer.SummarizeAsync(messages, rollingFrom?.SummaryText, cancellationToken).ConfigureAwait(false);
        long tokens = 0;
        foreach (var msg in messages)
        {
            tokens += msg.TokenCount ?? 0;
        }
        var summary = new ConversationSummary
        {
            SessionId = SessionId,
            SummaryText = text,
            MessageCount = messages.Count + (rollingFrom?.MessageCount ?? 0),
            TokenCount = (int)Math.Min(int.MaxValue, tokens + (rollingFrom?.TokenCount ?? 0)),
            CreatedAt = _backend.Clock.GetUtcNow(),
            SummaryType = type,
            FirstSequence = rollingFrom?.FirstSequence ?? messages[0].Sequence,
            LastSequence = messages[^1].Sequence,
        };
        state.SummarizedThrough = Math.Max(state.SummarizedThrough, summary.LastSequence);
        await _backend.AppendSummaryAsync(state, summary, cancellationToken).ConfigureAwait(false);
        return summary;
    }

    private async Task<List<Message>> ReadLiveAsync(long fromSequence, CancellationToken cancellationToken)
    {
        var list = new List<Message>();
        await foreach (var msg in _backend.ReadMessagesAsync(SessionId, new MessageQuery { FromSequence = fromSequence }, cancellationToken).ConfigureAwait(false))
        {
            list.Add(msg);
        }
        return list;
    }

    private async Task<IReadOnlyList<Message>> ReadRangeAsync(long from, long to, CancellationToken cancellationToken)
    {
        var list = new List<Message>();
        await foreach (var m in _backend.ReadMessagesAsync(SessionId, new MessageQuery { FromSequence = from, ToSequence = to }, cancellationToken).ConfigureAwait(false))
        {
            list.Add(m);
        }
        return list;
    }

    private async Task WithStateAsync(Func<SessionState, Task> action, CancellationToken cancellationToken)
    {
        _backend.EnsureConnected();
        var gate = _backend.LockFor(SessionId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var state = await _backend.LoadSessionAsync(SessionId, cancellationToken).ConfigureAwait(false)
                ?? throw new SessionNotFoundException(SessionId);
            await action(state).ConfigureAwait(false);
            // No copy needed: the loaded state is this call's own (backends hand out and keep copies), and
            // Metadata hands out a clone of it.
            _metadata = state.Metadata;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task RequireStateAsync(CancellationToken cancellationToken)
    {
        _backend.EnsureConnected();
        var state = await _backend.LoadSessionAsync(SessionId, cancellationToken).ConfigureAwait(false)
            ?? throw new SessionNotFoundException(SessionId);
        _metadata = state.Metadata;
    }

    /// <summary>Activity time: the clock, but never before the last recorded activity (clocks can step back).</summary>
    private DateTimeOffset Now(SessionMetadata m)
    {
        var now = _backend.Clock.GetUtcNow();
        return now > m.UpdatedAt ? now : m.UpdatedAt;
    }

    internal static Message SummaryAsMessage(ConversationSummary s)
    {
        var msg = new Message(MessageRole.System, "Summary of the earlier conversation: " + s.SummaryText)
        {
            MessageId = "summary-" + s.SummaryId,
            Timestamp = s.CreatedAt,
        };
        msg.Metadata["type"] = "summary";
        msg.Metadata["summary_id"] = s.SummaryId;
        msg.Metadata["covers_messages"] = s.MessageCount;
        return msg;
    }
}
