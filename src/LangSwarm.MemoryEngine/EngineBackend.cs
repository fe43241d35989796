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

    /// <summary>
    /// Key rotation (and encrypting a store written without a key): rewrites every session and the whole index file,
    /// so everything comes out sealed with <see cref="IKeyProvider.CurrentKey"/> of <see cref="EngineOptions.Encryption"/>.
    /// Open the store with the new key as current and the old one among <see cref="IKeyProvider.PreviousKeys"/>, call
    /// this, and from then on the old key is no longer needed. Crash-safe like <see cref="VacuumAsync"/>: a crash
    /// midway leaves some sessions under each key, all readable with both; run it again. Cancelling stops between
    /// sessions (what was rewritten is committed). Called on a store without a key it writes everything plain.
    /// </summary>
    public Task<VacuumReport> RekeyAsync(CancellationToken cancellationToken = default) => Engine.RekeyAsync(cancellationToken);

    /// <summary>The seed's name for a vacuum: rewrites what has any dead bytes; returns bytes reclaimed.</summary>
    public async Task<long> VacuumDatabaseAsync(CancellationToken cancellationToken = default) =>
        (await VacuumAsync(0.0, cancellationToken).ConfigureAwait(false)).BytesReclaimed;

    /// <summary>Reads every segment and checks each record and the index against them (<c>lsmem verify</c>).</summary>
    public Task<VerifyReport> VerifyAsync(CancellationToken cancellationToken = default) => Engine.VerifyAsync(cancellationToken);

    /// <summary>How fresh a read-only view is (<see cref="EngineOptions.ReadOnly"/>); null for a store opened to write, or closed.</summary>
    public ReadOnlySnapshot? Snapshot => _store.Snapshot;

    /// <summary>
    /// Backs up this open store into <paramref name="destination"/> (a new or empty directory) while adds go on:
    /// a checkpoint, then a copy of the index file, the segments and the bounded commit-log tail, fsynced. The
    /// backup holds every add acknowledged before the call and is itself a store (open it as one, or
    /// <see cref="RestoreAsync(string, string, IProgress{CopyProgress}?, CancellationToken)"/> it). With <paramref name="verify"/>, the backup is then opened and checked as
    /// <see cref="VerifyAsync"/> does (<see cref="BackupReport.Verify"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The destination holds files or lies inside the store.</exception>
    public Task<BackupReport> BackupAsync(string destination, bool verify = true, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        return StoreBackup.FromOpenAsync(Engine, destination, verify, progress, cancellationToken);
    }

    /// <summary>
    /// Backs up the store at <paramref name="storePath"/>, open in another process (its writes go on) or in none,
    /// as <see cref="BackupAsync(string, bool, IProgress{CopyProgress}?, CancellationToken)"/> does, without its
    /// writer's help: a checkpoint the writer commits during the copy starts the copy again (a few attempts).
    /// </summary>
    /// <exception cref="ArgumentException">The destination holds files or lies inside the store.</exception>
    /// <exception cref="MemoryException">No engine store at <paramref name="storePath"/>, or it checkpointed during every attempt.</exception>
    public static Task<BackupReport> BackupStoreAsync(string storePath, string destination, bool verify = true, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default) =>
        BackupStoreAsync(storePath, destination, encryption: null, verify, progress, cancellationToken);

    /// <summary>
    /// <see cref="BackupStoreAsync(string, string, bool, IProgress{CopyProgress}?, CancellationToken)"/> of an
    /// encrypted store: the copy stays sealed as the store is, and <paramref name="encryption"/> opens it to verify it.
    /// </summary>
    public static Task<BackupReport> BackupStoreAsync(string storePath, string destination, IKeyProvider? encryption, bool verify = true, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(storePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        return StoreBackup.FromPathAsync(storePath, destination, verify, encryption, progress, cancellationToken);
    }

    /// <summary>
    /// Restores the backup at <paramref name="backupPath"/> into a new store at <paramref name="storePath"/> (a
    /// missing or empty directory; an existing store is never overwritten), then opens and verifies it.
    /// </summary>
    /// <exception cref="ArgumentException">The target holds files.</exception>
    /// <exception cref="MemoryException">No engine store at <paramref name="backupPath"/>.</exception>
    public static Task<VerifyReport> RestoreAsync(string backupPath, string storePath, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default) =>
        RestoreAsync(backupPath, storePath, encryption: null, progress, cancellationToken);

    /// <summary>
    /// <see cref="RestoreAsync(string, string, IProgress{CopyProgress}?, CancellationToken)"/> of an encrypted backup:
    /// the restored store stays sealed, and <paramref name="encryption"/> opens it to verify it.
    /// </summary>
    public static Task<VerifyReport> RestoreAsync(string backupPath, string storePath, IKeyProvider? encryption, IProgress<CopyProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(backupPath);
        ArgumentException.ThrowIfNullOrWhiteSpace(storePath);
        return StoreBackup.RestoreAsync(backupPath, storePath, encryption, progress, cancellationToken);
    }

    /// <summary>Drops the open store as a killed process would (crash tests only).</summary>
    internal void Abandon() => _store.Abandon();

    internal StoreEngine Engine => _store.Engine;
}
