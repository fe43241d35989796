using Microsoft.Extensions.Logging;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// What the parts of an open store share (<see cref="StoreWriter"/>, <see cref="Checkpointer"/>,
/// <see cref="Compactor"/>, <see cref="StoreEngine"/>): the files, the index, the LSN and session counters and
/// the store's failure. Each piece has one owner that changes it: the counters and the failure change only
/// here; the commit log and the index file are replaced only by the engine's open and the checkpointer.
/// </summary>
/// <remarks>
/// Lock order, the one rule every part follows: a lock is taken only while holding locks to its left, never
/// one to its right.
/// <list type="number">
/// <item>the vacuum lock (<see cref="Compactor"/>: one pass at a time; verify waits for a whole pass);</item>
/// <item><see cref="CheckpointLock"/> (one checkpoint, index rebuild or session rewrite at a time);</item>
/// <item><see cref="Gate"/> (shared by every write from LSN to index; exclusive for a checkpoint's capture, a
/// rebuild and verify);</item>
/// <item>the index's lock (<see cref="SessionIndex"/>), then an entry's lock (<see cref="SessionEntry.Lock"/>),
/// then the index file's read lock.</item>
/// </list>
/// The commit log's and the segment files' own locks are leaves: nothing is taken while holding them.
/// </remarks>
internal sealed class EngineCore(IFileSystem fs, EngineOptions options, SegmentFiles segments, ILogger logger, StoreCipher? cipher)
{
    private long _nextLsn;
    private long _nextSession;
    private Exception? _failure;
    private volatile bool _closed;

    public IFileSystem Fs { get; } = fs;

    public EngineOptions Options { get; } = options;

    public SegmentFiles Segments { get; } = segments;

    public PackFiles Packs { get; } = new(fs, keyId: cipher?.KeyId ?? 0);

    /// <summary>Seals what the store writes and opens what it reads (null: the store has no key). Disposed with the engine.</summary>
    public StoreCipher? Cipher { get; } = cipher;

    /// <summary>Reads records from segments and packs alike.</summary>
    public RecordFiles Files => _files ??= new RecordFiles(Segments, Packs);

    private RecordFiles? _files;

    public SegmentAppender Appender { get; } = new(segments, options.SegmentMaxBytes);

    public AsyncGate Gate { get; } = new();

    public SemaphoreSlim CheckpointLock { get; } = new(1, 1);

    public RuntimeDamage Damage { get; } = new();

    public SessionIndex Index { get; } = new(options.SessionCacheBytes, cipher);

    public ILogger Logger { get; } = logger;

    /// <summary>The commit log (set once the open's recovery is done).</summary>
    public ICommitLog Log { get; set; } = null!;

    /// <summary>The index file (replaced only by the open and by a rebuild, both under the checkpoint lock).</summary>
    public IndexFile IndexFile { get; set; } = null!;

    /// <summary>The LSN the next record gets.</summary>
    public ulong NextLsn => (ulong)Interlocked.Read(ref _nextLsn);

    /// <summary>The number the next new session gets.</summary>
    public ulong NextSession => (ulong)Interlocked.Read(ref _nextSession);

    /// <summary>True once the store is closing or was abandoned: no new background work starts.</summary>
    public bool Closed
    {
        get => _closed;
        set => _closed = value;
    }

    /// <summary>The first failure that stopped the store's writes (its own or the commit log's), or null.</summary>
    public Exception? Failure => Volatile.Read(ref _failure) ?? Log?.Failure;

    /// <summary>Sets the counters recovery found.</summary>
    public void StartCounters(ulong nextLsn, ulong nextSession)
    {
        Interlocked.Exchange(ref _nextLsn, (long)nextLsn);
        Interlocked.Exchange(ref _nextSession, (long)nextSession);
    }

    /// <summary>Reserves <paramref name="count"/> consecutive LSNs; returns the first.</summary>
    public ulong ReserveLsns(int count) => (ulong)Interlocked.Add(ref _nextLsn, count) - (ulong)count;

    /// <summary>Reserves a session number.</summary>
    public ulong ReserveSession() => (ulong)Interlocked.Increment(ref _nextSession) - 1;

    /// <summary>Records the failure that stops the store's writes (the first one stays).</summary>
    public void Fail(Exception ex) => Interlocked.CompareExchange(ref _failure, ex, null);

    /// <summary>Throws the typed error of a store that stopped writing.</summary>
    /// <summary>Whether this is a read-only view (<see cref="EngineOptions.ReadOnly"/>): every write is refused before it reserves anything.</summary>
    public bool ReadOnly => Options.ReadOnly;

    /// <summary>The error a write to a read-only view gets.</summary>
    public StoreReadOnlyException ReadOnlyError() =>
        new($"The store at '{Options.Path}' is open read-only (a view beside its writer); writes go through the process that holds it.");

    public void ThrowIfFailed()
    {
        if (Failure is { } f)
        {
            throw StorageFailureException.From(f, "The store stopped accepting writes after a storage failure; reopen it to recover");
        }
    }

    /// <summary>Bytes of all store files (segments as the index knows them, commit log, index file).</summary>
    public long DiskBytes() => Index.Totals().SegmentBytes + Index.Packs.Totals().Bytes + Log.FileBytes + IndexFile.FileBytes;
}
