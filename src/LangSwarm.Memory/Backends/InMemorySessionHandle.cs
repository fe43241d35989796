namespace LangSwarm.Memory;

/// <summary>A handle on one in-memory session: the entry itself, found once.</summary>
internal sealed class InMemorySessionHandle(InMemorySessionStore.Entry entry) : ISessionHandle
{
    public string SessionId { get; } = entry.State.Metadata.SessionId;

    public SessionSnapshot State
    {
        get
        {
            lock (entry)
            {
                return SessionSnapshot.Of(entry.State);
            }
        }
    }

    public Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            return Task.FromResult(SessionSnapshot.Of(entry.State));
        }
    }

    public Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            var s = entry.State;
            for (var i = 0; i < messages.Count; i++)
            {
                var copy = messages[i].Clone();
                copy.Sequence = s.LastSequence + 1 + i;
                messages[i].Sequence = copy.Sequence;
                s.LiveTokens += copy.TokenCount ?? 0;
                entry.Messages.Add(copy);
            }
            s.LastSequence += messages.Count;
            s.LiveMessages += messages.Count;
            // Metadata objects are shared with snapshots: replaced, never changed in place.
            if (updatedAt != s.Metadata.UpdatedAt)
            {
                var m = s.Metadata.Clone();
                m.UpdatedAt = updatedAt;
                s.Metadata = m;
            }
            return Task.FromResult(SessionSnapshot.Of(s));
        }
    }

    public Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken)
    {
        var set = new HashSet<long>(sequences);
        lock (entry)
        {
            ThrowIfRemoved();
            var s = entry.State;
            entry.Messages.RemoveAll(m =>
            {
                if (!set.Contains(m.Sequence))
                {
                    return false;
                }
                s.LiveMessages--;
                s.LiveTokens -= m.TokenCount ?? 0;
                return true;
            });
            return Task.FromResult(SessionSnapshot.Of(s));
        }
    }

    public Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            entry.Summaries.Add(summary.Clone());
            entry.State.SummarizedThrough = Math.Max(entry.State.SummarizedThrough, summary.LastSequence);
            return Task.FromResult(SessionSnapshot.Of(entry.State));
        }
    }

    public Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            var s = entry.State;
            s.Metadata = metadata.Clone();
            s.LastSequence = Math.Max(s.LastSequence, lastSequence);
            s.SummarizedThrough = summarizedThrough;
            return Task.FromResult(SessionSnapshot.Of(s));
        }
    }

    public async IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        List<Message> list;
        lock (entry)
        {
            ThrowIfRemoved();
            list = Select(query, int.MaxValue);
        }
        foreach (var m in list)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return m;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            return Task.FromResult<IReadOnlyList<Message>>(Select(query, limit));
        }
    }

    public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            var infos = new MessageInfo[entry.Messages.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                infos[i] = MessageInfo.Of(entry.Messages[i]);
            }
            return Task.FromResult<IReadOnlyList<MessageInfo>>(infos);
        }
    }

    public Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (entry)
        {
            ThrowIfRemoved();
            // From the end: the page costs what it holds (and what the filter passes over), not the session's length.
            var messages = entry.Messages;
            var page = new List<MessageInfo>(Math.Clamp(limit, 0, 256));
            for (var i = UpperBound(messages, query.ToSequence) - 1; i >= 0 && page.Count < limit; i--)
            {
                var m = messages[i];
                if (m.Sequence < query.FromSequence)
                {
                    break;
                }
                if (query.Matches(m))
                {
                    page.Add(MessageInfo.Of(m));
                }
            }
            page.Reverse();
            return Task.FromResult<IReadOnlyList<MessageInfo>>(page);
        }
    }

    public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken)
    {
        lock (entry)
        {
            ThrowIfRemoved();
            var list = new List<ConversationSummary>(entry.Summaries.Count);
            foreach (var s in entry.Summaries)
            {
                list.Add(s.Clone());
            }
            return Task.FromResult<IReadOnlyList<ConversationSummary>>(list);
        }
    }

    /// <summary>Copies of the newest <paramref name="limit"/> matches, ascending (call under the entry lock).</summary>
    private List<Message> Select(MessageQuery query, int limit)
    {
        var messages = entry.Messages;
        var start = LowerBound(messages, query.FromSequence);
        var end = start;
        while (end < messages.Count && messages[end].Sequence <= query.ToSequence)
        {
            end++;
        }
        var picked = new List<Message>();
        for (var i = end - 1; i >= start && picked.Count < limit; i--)
        {
            if (query.Matches(messages[i]))
            {
                picked.Add(messages[i].Clone());
            }
        }
        picked.Reverse();
        return picked;
    }

    private void ThrowIfRemoved()
    {
        if (entry.Removed)
        {
            throw new SessionNotFoundException(SessionId);
        }
    }

    /// <summary>Index of the first message above <paramref name="sequence"/>.</summary>
    private static int UpperBound(List<Message> messages, long sequence) =>
        sequence == long.MaxValue ? messages.Count : LowerBound(messages, sequence + 1);

    private static int LowerBound(List<Message> messages, long sequence)
    {
        int lo = 0, hi = messages.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (messages[mid].Sequence < sequence)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }
}
