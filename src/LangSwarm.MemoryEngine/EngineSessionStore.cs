using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine;

/// <summary>
/// The embedded engine as an <see cref="ISessionStore"/>: owns the <see cref="StoreEngine"/> of one store
/// directory from open to close, and hands out <see cref="EngineSessionHandle"/>s over its index entries.
/// </summary>
internal sealed class EngineSessionStore : ISessionStore
{
    private readonly EngineOptions _options;
    private volatile StoreEngine? _engine;
    private ReadOnlyView? _view;

    /// <summary>A store over <paramref name="options"/>' directory (opened by <see cref="OpenAsync"/>).</summary>
    /// <exception cref="ArgumentException">A setting is out of range (<see cref="EngineOptions.Validate"/>).</exception>
    public EngineSessionStore(EngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The options.</summary>
    public EngineOptions Options => _options;

    /// <summary>What the last open found and repaired; null while closed.</summary>
    public RecoveryResult? Recovery => _engine?.Recovery;

    /// <summary>The open engine.</summary>
    /// <exception cref="BackendUnavailableException">The store is not open.</exception>
    public StoreEngine Engine => _engine ?? throw NotConnected();

    /// <summary>The open engine, or null (no exception): handles compare it with the engine they were made on.</summary>
    internal StoreEngine? Current => _engine;

    /// <inheritdoc />
    public Task OpenAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var logger = LoggerSource?.Invoke() ?? NullLogger.Instance;
        if (_options.ReadOnly)
        {
            var view = ReadOnlyView.Create(_options);
            try
            {
                _engine = StoreEngine.Open(view.Options, logger);
            }
            catch
            {
                view.Dispose();
                throw;
            }
            _view = view;
        }
        else
        {
            _engine = StoreEngine.Open(_options, logger);
        }
        ReportOpen(_engine.Recovery, logger);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public bool IsReadOnly => _options.ReadOnly;

    /// <summary>How fresh the read-only view is; null when the store is opened for writing or closed.</summary>
    public ReadOnlySnapshot? Snapshot => _view?.Snapshot;

    /// <summary>Where the engine logs: the owning backend's logger, read at open.</summary>
    internal Func<ILogger>? LoggerSource { get; set; }

    /// <summary>What recovery found, as metrics and log events (no message content: files, offsets, counts).</summary>
    private void ReportOpen(RecoveryResult r, ILogger logger)
    {
        MemoryTelemetry.EngineRecoveryHistogram.Record(r.Elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
        MemoryLog.StoreOpened(logger, _options.Path, r.Sessions, r.Messages, r.LogRecordsReplayed, r.SegmentRecordsReplayed, r.Elapsed.TotalMilliseconds, r.CheckpointLoaded);
        if (r.TornBytesCut > 0)
        {
            MemoryLog.TornTailCut(logger, _options.Path, r.TornBytesCut);
        }
        foreach (var d in r.Damage)
        {
            MemoryLog.StoreDamageFound(logger, _options.Path, d.File, d.Offset, d.Length, d.Reason);
        }
    }

    /// <inheritdoc />
    public Task CloseAsync(CancellationToken cancellationToken)
    {
        var e = _engine;
        _engine = null;
        e?.Dispose();
        _view?.Dispose();
        _view = null;
        return Task.CompletedTask;
    }

    /// <summary>Drops the open engine as a killed process would (crash tests only).</summary>
    public void Abandon()
    {
        var e = _engine;
        _engine = null;
        e?.Abandon();
        _view?.Dispose();
        _view = null;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => new(CloseAsync(CancellationToken.None));

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken)
    {
        var issues = new List<string>();
        var e = Engine;
        if (e.Failure is { } f)
        {
            issues.Add($"writes stopped after a storage failure: {f.Message}");
        }
        foreach (var d in e.Damage)
        {
            issues.Add(d.ToString());
        }
        return Task.FromResult<IReadOnlyList<string>>(issues);
    }

    /// <inheritdoc />
    public async Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        var engine = Engine;
        // The state is only encoded: the index keeps what it decodes from the record, never the caller's object.
        var entry = await engine.CreateSessionAsync(new SessionState(metadata)).ConfigureAwait(false);
        return entry is null ? null : EngineSessionHandle.Over(this, engine, entry);
    }

    /// <inheritdoc />
    public Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var engine = Engine;
        return Task.FromResult<ISessionHandle?>(engine.Index.TryGet(sessionId, out var entry) ? EngineSessionHandle.Over(this, engine, entry) : null);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SessionMetadata>>(Engine.Index.Query(query));

    /// <inheritdoc />
    public async Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        var engine = Engine;
        if (!engine.Index.TryGet(sessionId, out var e))
        {
            return false;
        }
        try
        {
            await engine.DeleteSessionAsync(e).ConfigureAwait(false);
            return true;
        }
        catch (SessionNotFoundException)
        {
            return false; // another remove took it first
        }
    }

    /// <inheritdoc />
    /// <remarks>With a status, walks that status's own activity order: sessions of other statuses are never looked at.</remarks>
    public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken)
    {
        var index = Engine.Index;
        return Task.FromResult<IReadOnlyList<string>>(index.UpdatedBefore(cutoff, status));
    }

    /// <inheritdoc />
    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken)
    {
        var engine = Engine;
        // The index file's totals plus what the sessions in memory changed since: no pass over every session.
        var (sessions, active, archived, messages, summaries, dead, segments, _, cold) = engine.Index.Totals();
        var disk = engine.DiskBytes();
        var (packs, packBytes, packLive) = engine.Index.Packs.Totals();
        // Bytes of packs no session names any more (erased groups), beside the sessions' own dead bytes.
        var packDead = Math.Max(0, packBytes - packLive - ((long)packs * Format.FileHeader.Size));
        return Task.FromResult(new UsageStats
        {
            Backend = EngineBackend.BackendName,
            TotalSessions = sessions,
            ActiveSessions = active,
            ArchivedSessions = archived,
            TotalMessages = messages,
            TotalSummaries = summaries,
            StorageBytes = disk,
            Extra = new Dictionary<string, object?>
            {
                ["path"] = Path.GetFullPath(_options.Path),
                ["durability"] = _options.Durability.ToString().ToLowerInvariant(),
                ["segments"] = segments,
                ["dead_bytes"] = dead,
                ["live_bytes"] = disk - dead - packDead,
                ["packs"] = packs,
                ["pack_bytes"] = packBytes,
                ["pack_dead_bytes"] = packDead,
                ["log_bytes"] = engine.LogBytes,
                ["cold_sessions"] = cold,
                ["last_vacuum"] = engine.LastVacuum?.At.ToString("O"),
                ["last_vacuum_bytes_reclaimed"] = engine.LastVacuum?.Report.BytesReclaimed,
                ["index_bytes"] = engine.IndexFileBytes,
                ["index_free_pages"] = engine.IndexFreePages,
                ["checkpoints"] = engine.CheckpointCount,
                ["last_checkpoint"] = engine.LastCheckpoint?.ToString("O"),
                ["last_recovery_ms"] = Math.Round(engine.Recovery.Elapsed.TotalMilliseconds, 2),
                ["damaged_records"] = engine.Damage.Count,
            },
        });
    }

    /// <inheritdoc />
    /// <remarks>From the index file's key space of owing sessions and the sessions in memory: no pass over the store.</remarks>
    public Task<IReadOnlyList<string>?> FindSessionsOwingSummariesAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>?>(Engine.Index.OwingSessionIds());

    /// <summary>The error of a call made while the store is closed.</summary>
    internal static BackendUnavailableException NotConnected() =>
        new($"Backend '{EngineBackend.BackendName}' is not connected; call ConnectAsync first.");
}
