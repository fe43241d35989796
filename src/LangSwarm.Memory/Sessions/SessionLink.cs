namespace LangSwarm.Memory;

/// <summary>
/// The one in-process owner of a stored session: its store handle and the lock that orders its writes. Every
/// session object for the same id in one backend shares the link, so state read from the handle is the state
/// the last write left. A link closes when its session is removed or the store disconnects; session objects
/// holding a closed link find the session again by id.
/// </summary>
internal sealed class SessionLink
{
    private volatile bool _closed;

    public SessionLink(ISessionHandle handle)
    {
        Handle = handle;
    }

    /// <summary>The store's handle on the session.</summary>
    public ISessionHandle Handle { get; }

    /// <summary>Orders the session's writes. Never held across a summarizer call or other work outside the store.</summary>
    public SemaphoreSlim Gate { get; } = new(1, 1);

    /// <summary>True once the session was removed or the store disconnected.</summary>
    public bool Closed => _closed;

    /// <summary>The session's id.</summary>
    public string SessionId => Handle.SessionId;

    /// <summary>Marks the link closed (its handle must not be used again).</summary>
    public void Close() => _closed = true;
}

/// <summary>
/// The links of one backend, by session id. Links are held weakly: a session nobody holds a session object
/// for costs nothing here once collected, so the table follows the sessions in use, not the store's size.
/// Entries entering and leaving the table are the <c>sessions.open</c> metric.
/// </summary>
internal sealed class SessionLinks(MemoryBackendBase owner)
{
    private readonly Dictionary<string, WeakReference<SessionLink>> _links = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private int _sweepAt = 1024;

    /// <summary>The open link of a session, or null.</summary>
    public SessionLink? Find(string sessionId)
    {
        lock (_lock)
        {
            return _links.TryGetValue(sessionId, out var weak) && weak.TryGetTarget(out var link) && !link.Closed ? link : null;
        }
    }

    /// <summary>Registers a new handle; when another thread registered one for the id first, returns that link.</summary>
    public SessionLink Register(ISessionHandle handle)
    {
        lock (_lock)
        {
            if (_links.TryGetValue(handle.SessionId, out var weak) && weak.TryGetTarget(out var existing) && !existing.Closed)
            {
                return existing;
            }
            var link = new SessionLink(handle);
            if (!_links.ContainsKey(handle.SessionId))
            {
                Opened(1);
            }
            _links[handle.SessionId] = new WeakReference<SessionLink>(link);
            if (_links.Count >= _sweepAt)
            {
                Sweep();
            }
            return link;
        }
    }

    /// <summary>The link of a session: the one in use, else found in the store (one lookup); null when there is none.</summary>
    public async ValueTask<SessionLink?> FindOrOpenAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (Find(sessionId) is { } link)
        {
            return link;
        }
        var handle = await owner.Store.OpenSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return handle is null ? null : Register(handle);
    }

    /// <summary>
    /// The link of a session, as <see cref="FindOrOpenAsync"/>, but a link in use has its state read again from the
    /// store first (the session may have gone from under this process: another process, a Redis TTL).
    /// </summary>
    public async ValueTask<SessionLink?> OpenFreshAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (Find(sessionId) is { } inUse)
        {
            try
            {
                await inUse.Handle.RefreshAsync(cancellationToken).ConfigureAwait(false);
                return inUse;
            }
            catch (SessionNotFoundException)
            {
                Close(inUse);
            }
        }
        return await FindOrOpenAsync(sessionId, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes a session when, under its lock, <paramref name="expired"/> still holds for its stored metadata (a
    /// session touched since it was found is kept); its links close. True when it was removed.
    /// </summary>
    public async Task<bool> RemoveIfAsync(string sessionId, Func<SessionMetadata, bool> expired, CancellationToken cancellationToken)
    {
        var link = await FindOrOpenAsync(sessionId, cancellationToken).ConfigureAwait(false);
        if (link is null)
        {
            return false;
        }
        await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (link.Closed)
            {
                return false;
            }
            SessionSnapshot st;
            try
            {
                st = await link.Handle.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SessionNotFoundException)
            {
                Close(link);
                return false;
            }
            if (!expired(st.Metadata))
            {
                return false;
            }
            var removed = await owner.Store.RemoveSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            Close(link);
            return removed;
        }
        finally
        {
            link.Gate.Release();
        }
    }

    /// <summary>Closes and forgets the link of a session (it was removed).</summary>
    public void Close(SessionLink link)
    {
        link.Close();
        lock (_lock)
        {
            if (_links.TryGetValue(link.SessionId, out var weak) && weak.TryGetTarget(out var current) && ReferenceEquals(current, link))
            {
                _links.Remove(link.SessionId);
                Opened(-1);
            }
        }
    }

    /// <summary>Closes every link (the store disconnected).</summary>
    public void CloseAll()
    {
        lock (_lock)
        {
            foreach (var weak in _links.Values)
            {
                if (weak.TryGetTarget(out var link))
                {
                    link.Close();
                }
            }
            Opened(-_links.Count);
            _links.Clear();
            _sweepAt = 1024;
        }
    }

    private void Sweep()
    {
        List<string>? dead = null;
        foreach (var (id, weak) in _links)
        {
            if (!weak.TryGetTarget(out var link) || link.Closed)
            {
                (dead ??= []).Add(id);
            }
        }
        if (dead is not null)
        {
            foreach (var id in dead)
            {
                _links.Remove(id);
            }
            Opened(-dead.Count);
        }
        _sweepAt = Math.Max(1024, _links.Count * 2);
    }

    private void Opened(int delta)
    {
        if (delta != 0 && MemoryTelemetry.SessionsOpenCounter.Enabled)
        {
            MemoryTelemetry.SessionsOpenCounter.Add(delta, MemoryTelemetry.Backend(owner.Name));
        }
    }
}
