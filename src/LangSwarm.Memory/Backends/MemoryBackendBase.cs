using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.Memory;

/// <summary>
/// The session layer every backend shares. It implements the seed's behaviour once — validation, per-session
/// ordering, token counting, eviction, the summary chain and its background worker, cleanup, health — over an
/// <see cref="ISessionStore"/> that each backend provides. That is what lets one conformance suite hold every
/// backend to the same observable behaviour.
/// </summary>
public abstract partial class MemoryBackendBase : IMemoryBackend
{
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private readonly SessionLinks _links;
    private readonly SummaryWorker _summaries;
    private volatile bool _connected;
    private string? _lastError;

    /// <summary>Creates the backend over a store, with its token counter and summarizer.</summary>
    protected MemoryBackendBase(ISessionStore store, ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        Store = store;
        TokenCounter = tokenCounter ?? TiktokenCounter.Default;
        Summarizer = summarizer ?? new ExtractiveSummarizer();
        _summaries = new SummaryWorker(this);
        _links = new SessionLinks(this);
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public bool IsConnected => _connected;

    /// <summary>Counts tokens of messages that arrive without a count.</summary>
    public ITokenCounter TokenCounter { get; set; }

    /// <summary>Makes the summaries of automatic and manual summarization.</summary>
    public ISummarizer Summarizer { get; set; }

    /// <summary>How automatic summaries run in the background (concurrency, retry backoff); read at connect.</summary>
    public BackgroundSummaryOptions BackgroundSummaries { get; } = new();

    /// <summary>
    /// Set by a <see cref="MemoryManager"/> over this backend (until it shuts down): the manager connects on first use,
    /// and a health check is a use, so <see cref="HealthCheckAsync"/> connects a backend that is not connected yet and
    /// reports what it finds. A backend used on its own reports "not connected" until it is connected.
    /// </summary>
    internal bool ConnectOnHealthCheck { get; set; }

    /// <summary>Where the backend logs (<see cref="MemoryEventIds"/>); never message content. Set before connecting.</summary>
    public ILogger Logger { get; set; } = NullLogger.Instance;

    /// <summary>Clock used for activity times (tests may move it).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

    /// <summary>The storage under the session layer.</summary>
    internal ISessionStore Store { get; }

    /// <inheritdoc />
    public async Task ConnectAsync(CancellationToken cancellationToken = default)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_connected)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            try
            {
                await Store.OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not MemoryException and not OperationCanceledException and not ArgumentException)
            {
                _lastError = ex.Message;
                MemoryLog.BackendConnectFailed(Logger, Name, ex);
                throw new BackendUnavailableException($"Backend '{Name}' could not connect: {ex.Message}", ex);
            }
            catch (MemoryException ex)
            {
                _lastError = ex.Message;
                MemoryLog.BackendConnectFailed(Logger, Name, ex);
                throw;
            }
            MemoryLog.BackendConnected(Logger, Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            _connected = true;
            _summaries.Start();
            if (!Store.IsReadOnly)
            {
                StartRetention();
                // Summaries owed when the store last closed (a crash, a disconnect mid-summary) are queued again.
                _summaries.Track(QueueOwedSummariesAsync);
            }
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc />
    public async Task DisconnectAsync(CancellationToken cancellationToken = default)
    {
        await _connectLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!_connected)
            {
                return;
            }
            var started = Stopwatch.GetTimestamp();
            await StopRetentionAsync().ConfigureAwait(false);
            await _summaries.StopAsync().ConfigureAwait(false);
            _connected = false;
            _links.CloseAll();
            await Store.CloseAsync(cancellationToken).ConfigureAwait(false);
            MemoryLog.BackendDisconnected(Logger, Name, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await DisconnectAsync().ConfigureAwait(false);
        await Store.DisposeAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// Completes when the background summarizer has nothing running or queued: every automatic summary owed so
    /// far is made and its chunk evicted. A session whose summaries keep failing stays queued (retrying), so use
    /// a cancellation token when the summarizer may be failing.
    /// </summary>
    public Task WhenSummariesIdleAsync(CancellationToken cancellationToken = default) => _summaries.WhenIdleAsync(cancellationToken);

    /// <inheritdoc />
    public async Task<HealthReport> HealthCheckAsync(CancellationToken cancellationToken = default)
    {
        if (!_connected && ConnectOnHealthCheck)
        {
            try
            {
                await ConnectAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _lastError = ex.Message;
            }
        }
        if (!_connected)
        {
            return new HealthReport { Status = HealthStatus.Unhealthy, Connected = false, Backend = Name, LastError = _lastError ?? "not connected" };
        }
        var sw = Stopwatch.StartNew();
        try
        {
            var found = await Store.ProbeAsync(cancellationToken).ConfigureAwait(false);
            sw.Stop();
            var issues = new List<string>(found);
            if (_summaries.Problem is { } summaries)
            {
                issues.Add(summaries);
            }
            return new HealthReport
            {
                Status = issues.Count == 0 ? HealthStatus.Healthy : HealthStatus.Degraded,
                Connected = true,
                ResponseTimeMs = Math.Round(sw.Elapsed.TotalMilliseconds, 3),
                LastError = issues.Count == 0 ? _lastError : string.Join("; ", issues),
                Backend = Name,
                Details = new Dictionary<string, object?> { ["issues"] = issues },
            };
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _lastError = ex.Message;
            return new HealthReport { Status = HealthStatus.Unhealthy, Connected = false, Backend = Name, LastError = ex.Message, ResponseTimeMs = sw.Elapsed.TotalMilliseconds };
        }
    }

    /// <inheritdoc />
    public async Task<IMemorySession> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        EnsureConnected();
        MessageValidator.ValidateSessionId(metadata.SessionId, nameof(metadata));
        if (metadata.UserId is not null)
        {
            MessageValidator.ValidateUserId(metadata.UserId, nameof(metadata));
        }
        ValidateLimits(metadata);
        var handle = await Store.CreateSessionAsync(metadata.Clone(), cancellationToken).ConfigureAwait(false)
            ?? throw new SessionAlreadyExistsException(metadata.SessionId);
        return new StoredSession(this, _links.Register(handle));
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        if (_links.Find(sessionId) is { } inUse)
        {
            // The session may have gone from under this process (another process, a Redis TTL): ask the store.
            try
            {
                await inUse.Handle.RefreshAsync(cancellationToken).ConfigureAwait(false);
                return new StoredSession(this, inUse);
            }
            catch (SessionNotFoundException)
            {
                _links.Close(inUse);
            }
        }
        var link = await FindLinkAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return link is null ? null : new StoredSession(this, link);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> ListSessionsAsync(
        string? userId = null,
        SessionStatus? status = null,
        int limit = 100,
        int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (userId is not null)
        {
            MessageValidator.ValidateUserId(userId);
        }
        EnsureConnected();
        if (limit == 0)
        {
            return Task.FromResult<IReadOnlyList<SessionMetadata>>([]);
        }
        return Store.QuerySessionsAsync(new SessionQuery(userId, status, limit, offset), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        return await DeleteWhereAsync(sessionId, static _ => true, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return Store.ComputeUsageStatsAsync(cancellationToken);
    }

    // ---- Sessions in use ------------------------------------------------------------------------------------

    /// <summary>The link of a session: the one in use, else found in the store (one lookup); null when there is none.</summary>
    internal async ValueTask<SessionLink?> FindLinkAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (_links.Find(sessionId) is { } link)
        {
            return link;
        }
        var handle = await Store.OpenSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return handle is null ? null : _links.Register(handle);
    }

    /// <summary>Queues a session for the background summarizer.</summary>
    internal void QueueSummary(SessionLink link) => _summaries.Enqueue(link);

    /// <summary>
    /// Removes a session when, under its lock, <paramref name="expired"/> still holds for its stored metadata (a
    /// session touched since it was found is kept); its links close. True when it was removed.
    /// </summary>
    private async Task<bool> DeleteWhereAsync(string sessionId, Func<SessionMetadata, bool> expired, CancellationToken cancellationToken)
    {
        var link = await FindLinkAsync(sessionId, cancellationToken).ConfigureAwait(false);
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
                _links.Close(link);
                return false;
            }
            if (!expired(st.Metadata))
            {
                return false;
            }
            var removed = await Store.RemoveSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
            _links.Close(link);
            return removed;
        }
        finally
        {
            link.Gate.Release();
        }
    }

    /// <summary>Queues every session whose state says a summary or an eviction is owed (after connect).</summary>
    private async Task QueueOwedSummariesAsync(CancellationToken cancellationToken)
    {
        if (await Store.FindSessionsOwingSummariesAsync(cancellationToken).ConfigureAwait(false) is { } owing)
        {
            // The store keeps track: only the sessions it names are looked at, however large the store.
            foreach (var id in owing)
            {
                var link = await FindLinkAsync(id, cancellationToken).ConfigureAwait(false);
                if (link is not null && SummaryChain.Due(link.Handle.State))
                {
                    _summaries.Enqueue(link);
                }
            }
            return;
        }
        const int Page = 500;
        for (var offset = 0; !cancellationToken.IsCancellationRequested; offset += Page)
        {
            var page = await Store.QuerySessionsAsync(new SessionQuery(null, SessionStatus.Active, Page, offset), cancellationToken).ConfigureAwait(false);
            foreach (var m in page)
            {
                if (!SummaryChain.Automatic(m))
                {
                    continue;
                }
                var link = await FindLinkAsync(m.SessionId, cancellationToken).ConfigureAwait(false);
                if (link is not null && SummaryChain.Due(link.Handle.State))
                {
                    _summaries.Enqueue(link);
                }
            }
            if (page.Count < Page)
            {
                return;
            }
        }
    }

    // ---- Shared helpers -------------------------------------------------------------------------------------

    /// <summary>Throws when not connected.</summary>
    protected internal void EnsureConnected()
    {
        if (!_connected)
        {
            throw new BackendUnavailableException($"Backend '{Name}' is not connected; call ConnectAsync first.");
        }
    }

    /// <summary>Remembers an error for the health report.</summary>
    protected internal void RecordError(string message) => _lastError = message;

    /// <summary>Checks a session's settings and its metadata (<see cref="MemoryLimits"/>) before anything is written.</summary>
    internal static void ValidateLimits(SessionMetadata m)
    {
        if (m.MaxMessages <= 0)
        {
            throw new ArgumentException($"MaxMessages must be positive (was {m.MaxMessages}).", nameof(m));
        }
        if (m.MaxTokens <= 0)
        {
            throw new ArgumentException($"MaxTokens must be positive (was {m.MaxTokens}).", nameof(m));
        }
        if (!(m.EvictionLowWater > 0 && m.EvictionLowWater <= 1))
        {
            throw new ArgumentException($"EvictionLowWater must be in (0, 1] (was {m.EvictionLowWater}).", nameof(m));
        }
        if (m.AutoSummarizeThreshold < 0)
        {
            throw new ArgumentException($"AutoSummarizeThreshold must be zero (off) or positive (was {m.AutoSummarizeThreshold}).", nameof(m));
        }
        if (!Enum.IsDefined(m.Status))
        {
            throw new ArgumentException($"Unknown session status {(int)m.Status}.", nameof(m));
        }
        if (!Enum.IsDefined(m.SummaryStrategy))
        {
            throw new ArgumentException($"Unknown summary strategy {(int)m.SummaryStrategy}.", nameof(m));
        }
        MemoryLimits.ValidateSessionMetadata(m.Metadata, nameof(m));
    }
}
