using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;

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

    private readonly EngineSessionStore _store;

    /// <summary>Creates a backend over a store directory (opened by <see cref="MemoryBackendBase.ConnectAsync"/>).</summary>
    public EngineBackend(EngineOptions options, ITokenCounter? tokenCounter = null, ISummarizer? summarizer = null)
        : this(new EngineSessionStore(options), tokenCounter, summarizer)
    {
    }

    /// <summary>Creates a backend over a store directory with default options.</summary>
    public EngineBackend(string path, DurabilityMode durability = DurabilityMode.Strict)
        : this(new EngineOptions { Path = path, Durability = durability })
    {
    }

    private EngineBackend(EngineSessionStore store, ITokenCounter? tokenCounter, ISummarizer? summarizer)
        : base(store, tokenCounter, summarizer)
    {
        _store = store;
        store.LoggerSource = () => Logger;
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <summary>The options.</summary>
    public EngineOptions Options => _store.Options;

    /// <summary>What the last open found and repaired.</summary>
    public RecoveryResult? Recovery => _store.Recovery;

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
    public Task<VacuumReport> VacuumAsync(double minDeadFraction = 0.25, CancellationToken cancellationToken = default)
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
    internal void Abandon() => _store.Abandon();

    internal StoreEngine Engine => _store.Engine;
}
