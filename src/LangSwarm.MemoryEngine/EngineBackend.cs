using System.Runtime.CompilerServices;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Storage;

[assembly: MemoryBackendProvider(typeof(LangSwarm.MemoryEngine.EngineBackendProvider))]

namespace LangSwarm.MemoryEngine;

/// <summary>
/// The embedded engine as a memory backend (<c>engine</c>): a directory of checksummed, LZ4-compressed,
/// per-session segments behind a group-committed commit log, indexed by a copy-on-write B+tree file that
/// checkpoints bring up to date (sessions in memory, their message entries loaded on use).
/// See FORMAT.md.
/// </summary>
public sealed class EngineBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "engine";

    private readonly EngineOptions _options;
    private StoreEngine? _engine;

    /// <summary>Creates a backend over a store directory (opened by <see cref="MemoryBackendBase.ConnectAsync"/>).</summary>
    public EngineBackend(EngineOptions options, ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
        : base(tokenCounter, summarizer)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.Path))
        {
            throw new ArgumentException("The engine needs a store directory path.", nameof(options));
        }
        if (options.AutoVacuumWhenIdleFor <= TimeSpan.Zero)
        {
            throw new ArgumentException($"AutoVacuumWhenIdleFor must be positive (was {options.AutoVacuumWhenIdleFor}).", nameof(options));
        }
        _options = options;
    }

    /// <summary>Creates a backend over a store directory with default options.</summary>
    public EngineBackend(string path, DurabilityMode durability = DurabilityMode.Strict)
        : this(new EngineOptions { Path = path, Durability = durability })
    {
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <summary>The options.</summary>
    public EngineOptions Options => _options;

    /// <summary>What the last open found and repaired.</summary>
    public RecoveryResult? Recovery => _engine?.Recovery;

    /// <summary>Runs a checkpoint now (normally background and at close).</summary>
    public Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Engine.CheckpointAsync();
    }

    /// <summary>
    /// Rewrites sessions whose dead bytes (evicted messages, superseded states) reach
    /// <paramref name="minDeadFraction"/> of their segments, and archived sessions not yet in cold form
    /// (LZ4 HC), then deletes the old segments. Crash-safe: the checkpoint that follows the rewrite is the switch.
    /// </summary>
    public Task<Compaction.VacuumReport> VacuumAsync(double minDeadFraction = 0.25, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minDeadFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minDeadFraction, 1.0);
        return Engine.VacuumAsync(minDeadFraction, cancellationToken);
    }

    /// <summary>The seed's name for a vacuum: rewrites what has any dead bytes; returns bytes reclaimed.</summary>
    public async Task<long> VacuumDatabaseAsync(CancellationToken cancellationToken = default) =>
        (await VacuumAsync(0.0, cancellationToken).ConfigureAwait(false)).BytesReclaimed;

    /// <summary>Reads every segment and checks each record and the index against them (<c>lsmem verify</c>).</summary>
    public Task<VerifyReport> VerifyAsync(CancellationToken cancellationToken = default) => Engine.VerifyAsync(cancellationToken);

    /// <summary>Drops the open store as a killed process would (crash tests only).</summary>
    internal void Abandon()
    {
        _engine?.Abandon();
        _engine = null;
    }

    internal StoreEngine Engine => _engine ?? throw new BackendUnavailableException("Backend 'engine' is not connected; call ConnectAsync first.");

    /// <inheritdoc />
    protected override Task OpenStoreAsync(CancellationToken cancellationToken)
    {
        _engine = StoreEngine.Open(_options);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task CloseStoreAsync(CancellationToken cancellationToken)
    {
        var e = _engine;
        _engine = null;
        e?.Dispose();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken)
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
    protected override async Task<bool> TryCreateSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        await Engine.CreateSessionAsync(state.Clone()).ConfigureAwait(false) is not null;

    /// <inheritdoc />
    protected override Task<SessionState?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!Engine.Index.TryGet(sessionId, out var e))
        {
            return Task.FromResult<SessionState?>(null);
        }
        lock (e.Lock)
        {
            return Task.FromResult<SessionState?>(e.State.Clone());
        }
    }

    /// <inheritdoc />
    protected override Task SaveSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        Engine.WriteStateAsync(Entry(state.Metadata.SessionId), state.Clone());

    /// <inheritdoc />
    protected override Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<SessionMetadata>>(Engine.Index.Query(query));

    /// <inheritdoc />
    protected override async Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!Engine.Index.TryGet(sessionId, out var e))
        {
            return false;
        }
        await Engine.DeleteSessionAsync(e).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Engine.Index.UpdatedBefore(cutoff));

    /// <inheritdoc />
    /// <remarks>Walks the status's own activity order: active sessions past the age are never looked at.</remarks>
    protected override Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus status, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<string>>(Engine.Index.UpdatedBefore(cutoff, status));

    /// <inheritdoc />
    protected override Task AppendMessagesAsync(SessionState state, IReadOnlyList<Message> messages, CancellationToken cancellationToken) =>
        Engine.AppendMessagesAsync(Entry(state.Metadata.SessionId), messages, state.Metadata.UpdatedAt.UtcTicks);

    /// <inheritdoc />
    protected override async IAsyncEnumerable<Message> ReadMessagesAsync(string sessionId, MessageQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (!Engine.Index.TryGet(sessionId, out var e))
        {
            yield break;
        }
        // Stream in pages so a long session is never held in memory whole.
        const int Page = 256;
        var picked = Engine.Pick(e, query);
        for (var i = 0; i < picked.Count; i += Page)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var page = Engine.ReadEntries(e, picked.GetRange(i, Math.Min(Page, picked.Count - i)));
            foreach (var m in page)
            {
                yield return m;
            }
        }
        await Task.CompletedTask.ConfigureAwait(false);
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(string sessionId, MessageQuery query, int limit, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<Message>>(Engine.Index.TryGet(sessionId, out var e) ? Engine.ReadMessages(e, query, limit) : []);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!Engine.Index.TryGet(sessionId, out var e))
        {
            return Task.FromResult<IReadOnlyList<MessageInfo>>([]);
        }
        lock (e.Lock)
        {
            var infos = new MessageInfo[e.Messages.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                var m = e.Messages[i];
                infos[i] = new MessageInfo(m.Sequence, (MessageRole)m.Role, m.Tokens, new DateTimeOffset(m.TimeTicks, TimeSpan.Zero), m.HasCalls);
            }
            return Task.FromResult<IReadOnlyList<MessageInfo>>(infos);
        }
    }

    /// <inheritdoc />
    protected override Task RemoveMessagesAsync(SessionState state, IReadOnlyList<long> sequences, CancellationToken cancellationToken) =>
        Engine.WriteStateAsync(Entry(state.Metadata.SessionId), state.Clone(), evict: sequences);

    /// <inheritdoc />
    protected override Task AppendSummaryAsync(SessionState state, ConversationSummary summary, CancellationToken cancellationToken) =>
        Engine.WriteStateAsync(Entry(state.Metadata.SessionId), state.Clone(), summary: summary);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (!Engine.Index.TryGet(sessionId, out var e))
        {
            return Task.FromResult<IReadOnlyList<ConversationSummary>>([]);
        }
        lock (e.Lock)
        {
            return Task.FromResult<IReadOnlyList<ConversationSummary>>(e.Summaries.Select(s => s.Clone()).ToList());
        }
    }

    /// <inheritdoc />
    protected override Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken)
    {
        var engine = Engine;
        long sessions = 0, active = 0, archived = 0, messages = 0, summaries = 0, dead = 0, segments = 0, cold = 0;
        foreach (var e in engine.Index.All())
        {
            lock (e.Lock)
            {
                sessions++;
                active += e.State.Metadata.Status == SessionStatus.Active ? 1 : 0;
                archived += e.State.Metadata.Status == SessionStatus.Archived ? 1 : 0;
                messages += e.MessageCount; // counts, not the lists: those load from the index file on first use
                summaries += e.SummaryCount;
                dead += e.DeadBytes;
                segments += e.Segments.Count;
                cold += e.Cold ? 1 : 0;
            }
        }
        var disk = engine.DiskBytes();
        return Task.FromResult(new UsageStats
        {
            Backend = Name,
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
                ["live_bytes"] = disk - dead,
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

    private SessionEntry Entry(string sessionId) =>
        Engine.Index.TryGet(sessionId, out var e) ? e : throw new SessionNotFoundException(sessionId);
}
