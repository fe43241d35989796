using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace LangSwarm.Memory;

/// <summary>
/// The shared body of every backend. It implements the seed's behaviour once — validation, per-session
/// ordering, token counting, eviction, summarization, cleanup, health — on top of a small set of storage
/// primitives that each backend provides. That is what lets one conformance suite hold every backend to the
/// same observable behaviour.
/// </summary>
public abstract partial class MemoryBackendBase : IMemoryBackend
{
    private const int LockStripes = 256;
    private readonly SemaphoreSlim[] _sessionLocks = CreateStripes();
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private volatile bool _connected;
    private string? _lastError;

    /// <summary>Creates the backend with its token counter and summarizer.</summary>
    protected MemoryBackendBase(ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
    {
        TokenCounter = tokenCounter ?? TiktokenCounter.Default;
        Summarizer = summarizer ?? new ExtractiveSummarizer();
    }

    /// <inheritdoc />
    public abstract string Name { get; }

    /// <inheritdoc />
    public bool IsConnected => _connected;

    /// <summary>Counts tokens of messages that arrive without a count.</summary>
    public ITokenCounter TokenCounter { get; set; }

    /// <summary>Makes the summaries of automatic and manual summarization.</summary>
    public ISummarizer Summarizer { get; set; }

    /// <summary>
    /// Set by a <see cref="MemoryManager"/> over this backend (until it shuts down): the manager connects on first use,
    /// and a health check is a use, so <see cref="HealthCheckAsync"/> connects a backend that is not connected yet and
    /// reports what it finds. A backend used on its own reports "not connected" until it is connected.
    /// </summary>
    internal bool ConnectOnHealthCheck { get; set; }

    /// <summary>Clock used for activity times (tests may move it).</summary>
    public TimeProvider Clock { get; set; } = TimeProvider.System;

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
            try
            {
                await OpenStoreAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not MemoryException and not OperationCanceledException and not ArgumentException)
            {
                _lastError = ex.Message;
                throw new BackendUnavailableException($"Backend '{Name}' could not connect: {ex.Message}", ex);
            }
            catch (MemoryException ex)
            {
                _lastError = ex.Message;
                throw;
            }
            _connected = true;
            StartRetention();
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
            await StopRetentionAsync().ConfigureAwait(false);
            _connected = false;
            await CloseStoreAsync(cancellationToken).ConfigureAwait(false);
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
        await DisposeStoreAsync().ConfigureAwait(false);
        GC.SuppressFinalize(this);
    }

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
            var issues = await ProbeAsync(cancellationToken).ConfigureAwait(false);
            sw.Stop();
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
        var state = new SessionState(metadata.Clone());
        var gate = LockFor(metadata.SessionId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!await TryCreateSessionAsync(state, cancellationToken).ConfigureAwait(false))
            {
                throw new SessionAlreadyExistsException(metadata.SessionId);
            }
        }
        finally
        {
            gate.Release();
        }
        return new StoredSession(this, state.Metadata.Clone());
    }

    /// <inheritdoc />
    public async Task<IMemorySession?> GetSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        var state = await LoadSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : new StoredSession(this, state.Metadata);
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
        return QuerySessionsAsync(new SessionQuery(userId, status, limit, offset), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> DeleteSessionAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        MessageValidator.ValidateSessionId(sessionId);
        EnsureConnected();
        var gate = LockFor(sessionId);
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await RemoveSessionAsync(sessionId, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <inheritdoc />
    public Task<UsageStats> GetUsageStatsAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return ComputeUsageStatsAsync(cancellationToken);
    }

    // ---- Storage primitives each backend implements -------------------------------------------------------

    /// <summary>Opens or creates the storage.</summary>
    protected abstract Task OpenStoreAsync(CancellationToken cancellationToken);

    /// <summary>Flushes and closes the storage.</summary>
    protected abstract Task CloseStoreAsync(CancellationToken cancellationToken);

    /// <summary>Releases what outlives a disconnect (default: nothing).</summary>
    protected virtual ValueTask DisposeStoreAsync() => ValueTask.CompletedTask;

    /// <summary>Problems a health probe finds (empty when healthy); throws when the store is unreachable.</summary>
    protected virtual async Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken)
    {
        await QuerySessionsAsync(new SessionQuery(null, null, 1, 0), cancellationToken).ConfigureAwait(false);
        return [];
    }

    /// <summary>Stores a new session; false when the id exists.</summary>
    protected internal abstract Task<bool> TryCreateSessionAsync(SessionState state, CancellationToken cancellationToken);

    /// <summary>The stored state of a session, or null.</summary>
    protected internal abstract Task<SessionState?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Replaces the stored state (metadata and counters) of an existing session.</summary>
    protected internal abstract Task SaveSessionAsync(SessionState state, CancellationToken cancellationToken);

    /// <summary>Sessions matching the query, in <see cref="SessionQuery.Compare"/> order, paged.</summary>
    protected internal abstract Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken);

    /// <summary>Removes a session and all it holds; false when there was none.</summary>
    protected internal abstract Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Ids of sessions whose last activity is before <paramref name="cutoff"/>.</summary>
    protected internal abstract Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);

    /// <summary>
    /// Appends messages (sequences and token counts assigned) and stores the new state, as one atomic change.
    /// </summary>
    protected internal abstract Task AppendMessagesAsync(SessionState state, IReadOnlyList<Message> messages, CancellationToken cancellationToken);

    /// <summary>Live messages matching the query, ascending by sequence.</summary>
    protected internal abstract IAsyncEnumerable<Message> ReadMessagesAsync(string sessionId, MessageQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// The newest <paramref name="limit"/> live messages matching the query, ascending. The default reads
    /// all matches and keeps the tail; backends with an index override it.
    /// </summary>
    protected internal virtual async Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(string sessionId, MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        var tail = new Queue<Message>();
        await foreach (var m in ReadMessagesAsync(sessionId, query, cancellationToken).ConfigureAwait(false))
        {
            tail.Enqueue(m);
            if (tail.Count > limit)
            {
                tail.Dequeue();
            }
        }
        return tail.ToArray();
    }

    /// <summary>Index facts of every live message, ascending. The default reads messages; indexed backends override it.</summary>
    protected internal virtual async Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(string sessionId, CancellationToken cancellationToken)
    {
        var list = new List<MessageInfo>();
        await foreach (var m in ReadMessagesAsync(sessionId, MessageQuery.All, cancellationToken).ConfigureAwait(false))
        {
            list.Add(MessageInfo.Of(m));
        }
        return list;
    }

    /// <summary>Takes messages out of the live window and stores the new state, as one atomic change.</summary>
    protected internal abstract Task RemoveMessagesAsync(SessionState state, IReadOnlyList<long> sequences, CancellationToken cancellationToken);

    /// <summary>Stores a summary and the new state, as one atomic change.</summary>
    protected internal abstract Task AppendSummaryAsync(SessionState state, ConversationSummary summary, CancellationToken cancellationToken);

    /// <summary>The session's summaries, oldest first.</summary>
    protected internal abstract Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(string sessionId, CancellationToken cancellationToken);

    /// <summary>Usage figures of the store.</summary>
    protected abstract Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken);

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
    protected void RecordError(string message) => _lastError = message;

    /// <summary>The lock that orders one session's writes (striped, so memory stays bounded).</summary>
    internal SemaphoreSlim LockFor(string sessionId) =>
        _sessionLocks[(uint)StringComparer.Ordinal.GetHashCode(sessionId) % LockStripes];

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

    /// <summary>Materializes an async sequence.</summary>
    protected static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> source, CancellationToken cancellationToken)
    {
        var list = new List<T>();
        await foreach (var item in source.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            list.Add(item);
        }
        return list;
    }

    /// <summary>An async sequence over a list (for backends whose reads are synchronous).</summary>
    protected static async IAsyncEnumerable<T> AsAsync<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return item;
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    private static SemaphoreSlim[] CreateStripes()
    {
        var a = new SemaphoreSlim[LockStripes];
        for (var i = 0; i < a.Length; i++)
        {
            a[i] = new SemaphoreSlim(1, 1);
        }
        return a;
    }
}
