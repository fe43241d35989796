namespace LangSwarm.MemoryEngine;

/// <summary>Settings of an engine store.</summary>
public sealed record EngineOptions
{
    /// <summary>The store directory (created when missing).</summary>
    public required string Path { get; init; }

    /// <summary>
    /// Encryption at rest (FORMAT.md §13): with a provider, every record payload and index page the store writes is
    /// sealed with AES-256-GCM under its current key, and the store opens only with the keys its files name
    /// (<see cref="EncryptionKeyException"/> otherwise, before anything is changed). Null (default): not encrypted.
    /// A store written without a key can be opened with one: new data is sealed, and <see cref="EngineBackend.RekeyAsync"/>
    /// seals the rest.
    /// </summary>
    public IKeyProvider? Encryption { get; init; }

    /// <summary>
    /// What an open does when users other than the owner can write the store's directories, index file or commit logs
    /// (Unix): refuse (default), warn, or not look. The engine creates its directories 0700 and files 0600.
    /// </summary>
    public PermissionCheck Permissions { get; init; } = PermissionCheck.Refuse;

    /// <summary>When an add is acknowledged. Default: <see cref="DurabilityMode.Strict"/>.</summary>
    public DurabilityMode Durability { get; init; } = DurabilityMode.Strict;

    /// <summary>Most time between fsyncs under <see cref="DurabilityMode.Batched"/>: the documented loss window.</summary>
    public TimeSpan BatchedInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>A session's segment is closed and a new one started past this size.</summary>
    public long SegmentMaxBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>A checkpoint runs in the background once the commit log holds this many bytes.</summary>
    public long CheckpointLogBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// A checkpoint runs in the background once this many records were written since the last one, whatever
    /// their size. Until a checkpoint, every message appended since the last one keeps its index entry in
    /// memory (about 40 bytes, and its list's growth room): this bounds that memory for small, well-compressed
    /// messages, of which <see cref="CheckpointLogBytes"/> alone would let millions gather.
    /// </summary>
    public long CheckpointRecords { get; init; } = 1024 * 1024;

    /// <summary>
    /// About how many bytes of parsed index pages (B+tree nodes) stay in memory. The OS page cache keeps the pages
    /// themselves, so a miss costs a read and a parse, not a disk access; branches, which every lookup passes,
    /// are what this mostly holds.
    /// </summary>
    public long IndexCacheBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Dirty segments above which a checkpoint syncs the whole file system in one call (syncfs) instead of file by file.</summary>
    public int SyncAllAbove { get; init; } = 32;

    /// <summary>
    /// When set, a background vacuum runs every <see cref="AutoVacuumInterval"/> and rewrites sessions whose dead
    /// bytes reach this fraction (and archived sessions not yet cold). Null: vacuum only on demand.
    /// </summary>
    public double? AutoVacuumDeadFraction { get; init; }

    /// <summary>
    /// How often the background vacuum looks for work. With <see cref="AutoVacuumWhenIdleFor"/> set it is the
    /// longest wait between passes under constant writes, and <see cref="Timeout.InfiniteTimeSpan"/> leaves only
    /// the idle trigger.
    /// </summary>
    public TimeSpan AutoVacuumInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// When set (with <see cref="AutoVacuumDeadFraction"/>), the background vacuum also looks for work as soon as
    /// the store has taken no write (add, state change, delete) for this long: once per quiet spell, noticed at
    /// most a quarter of this late, so compaction runs while nothing competes with it. Null: the interval alone.
    /// </summary>
    public TimeSpan? AutoVacuumWhenIdleFor { get; init; }

    /// <summary>
    /// Sessions whose message entries are kept in memory after use. Past this, each checkpoint lets go of the
    /// least recently used ones that the index file holds unchanged (they load again on next use), so memory
    /// follows the working set rather than the size of the store.
    /// </summary>
    public int MaxLoadedSessions { get; init; } = 10_000;

    /// <summary>
    /// Bytes of session state the engine keeps in memory (metadata, segment lists, loaded message entries and
    /// summaries), estimated. Sessions live in the index file and load on first use; past this budget the least
    /// recently used ones that the file holds unchanged are let go (a session handle in use keeps its own), so
    /// memory follows the sessions in use, not the size of the store. Sessions changed since the last checkpoint
    /// stay in memory until it commits them, whatever the budget.
    /// </summary>
    public long SessionCacheBytes { get; init; } = 16L << 20;

    /// <summary>
    /// Pause of a vacuum between two sessions it rewrites. Each rewrite briefly competes with foreground writes
    /// for CPU and disk; the pause (at least as long as the last session's files took to sync, at most 10 s)
    /// spreads that out (bench C1). Zero: no pause at all.
    /// </summary>
    public TimeSpan VacuumPause { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Sessions whose live records take at most this many bytes, and that were not written for
    /// <see cref="PackSessionsIdleFor"/>, are packed by a vacuum: moved with other small sessions into one shared
    /// pack file (up to <see cref="SegmentMaxBytes"/>), and their own files deleted, so a store of many short
    /// conversations is a few files instead of one per session. A packed session written again gets a file of
    /// its own for what follows. Default 64 KiB; 0: never pack.
    /// </summary>
    public long PackSessionsBelowBytes { get; init; } = 64 * 1024;

    /// <summary>How long a session must have taken no write before a vacuum packs it. Default 10 minutes.</summary>
    public TimeSpan PackSessionsIdleFor { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Free bytes the index file must hold (with a quarter of its pages free) before a vacuum repacks it.</summary>
    public long IndexCompactMinFreeBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Index entries a checkpoint commits at most in one transaction of the index file (a larger checkpoint
    /// commits in parts, FORMAT.md §6.4); tests make it small so that crashes land between the parts.
    /// </summary>
    internal int CheckpointPartEntries { get; init; } = 16_384;

    /// <summary>Most segment files kept open at once.</summary>
    public int OpenSegmentHandles { get; init; } = 256;

    /// <summary>The file system (tests pass a fault-injecting one); default: the real one under <see cref="Path"/>.</summary>
    public IFileSystem? FileSystem { get; init; }

    /// <summary>
    /// Opens a read-only view of the store as it is at the open, beside a writer that holds it in another process
    /// (or of a store nobody holds): the index file and the commit logs are copied into a private scratch
    /// directory and recovered there, and segments are read in place. The view never writes to the store and
    /// takes no lock on it; it does not follow the writer's later adds (reopen for a fresher view). Every write
    /// throws <see cref="StoreReadOnlyException"/>; background summaries, retention and vacuum do not run.
    /// </summary>
    /// <remarks>
    /// A session that the writer deletes or compacts while the view is open may fail to read in the view. Not
    /// with a custom <see cref="FileSystem"/>.
    /// </remarks>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Smallest <see cref="SegmentMaxBytes"/> and <see cref="CheckpointLogBytes"/> accepted: room for a file header
    /// and a record. Values this small make every add roll a segment or start a checkpoint (tests use them for
    /// that); the provider's settings start at 64 KiB.
    /// </summary>
    public const long MinFileBytes = 1024;

    /// <summary>
    /// Checks every setting; the engine's constructor and its provider call it before anything is opened.
    /// </summary>
    /// <exception cref="ArgumentException">One or more settings are out of range; the message names each of them.</exception>
    public void Validate()
    {
        var problems = new List<string>();
        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                problems.Add(problem);
            }
        }
        Check(!string.IsNullOrWhiteSpace(Path), "Path: the engine needs a store directory path");
        Check(Enum.IsDefined(Durability), $"Durability: {(int)Durability} is not a durability mode");
        Check(BatchedInterval > TimeSpan.Zero && BatchedInterval <= TimeSpan.FromMinutes(1), $"BatchedInterval: must be above zero and at most 1 minute (was {BatchedInterval})");
        Check(SegmentMaxBytes is >= MinFileBytes and <= 1L << 30, $"SegmentMaxBytes: must be from {MinFileBytes:N0} to {1L << 30:N0} bytes (was {SegmentMaxBytes:N0})");
        Check(CheckpointLogBytes >= MinFileBytes, $"CheckpointLogBytes: must be at least {MinFileBytes:N0} bytes (was {CheckpointLogBytes:N0})");
        Check(IndexCacheBytes >= 0, $"IndexCacheBytes: must not be negative (was {IndexCacheBytes:N0})");
        Check(CheckpointRecords >= 1, $"CheckpointRecords: must be at least 1 (was {CheckpointRecords:N0})");
        Check(SyncAllAbove >= 0, $"SyncAllAbove: must not be negative (was {SyncAllAbove})");
        Check(AutoVacuumDeadFraction is null or (>= 0 and <= 1), $"AutoVacuumDeadFraction: must be from 0 to 1 (was {AutoVacuumDeadFraction})");
        Check(AutoVacuumInterval > TimeSpan.Zero || AutoVacuumInterval == Timeout.InfiniteTimeSpan, $"AutoVacuumInterval: must be above zero, or infinite (was {AutoVacuumInterval})");
        Check(AutoVacuumWhenIdleFor is null || AutoVacuumWhenIdleFor > TimeSpan.Zero, $"AutoVacuumWhenIdleFor: must be above zero when set (was {AutoVacuumWhenIdleFor})");
        Check(AutoVacuumDeadFraction is null || AutoVacuumInterval != Timeout.InfiniteTimeSpan || AutoVacuumWhenIdleFor is not null, "AutoVacuumInterval: infinite without AutoVacuumWhenIdleFor leaves the background vacuum nothing to start it");
        Check(MaxLoadedSessions >= 0, $"MaxLoadedSessions: must not be negative (was {MaxLoadedSessions})");
        Check(SessionCacheBytes >= 0, $"SessionCacheBytes: must not be negative (was {SessionCacheBytes})");
        Check(VacuumPause >= TimeSpan.Zero, $"VacuumPause: must not be negative (was {VacuumPause})");
        Check(PackSessionsBelowBytes is >= 0 and <= 1L << 30, $"PackSessionsBelowBytes: must be from 0 to {1L << 30:N0} bytes (was {PackSessionsBelowBytes:N0})");
        Check(PackSessionsIdleFor >= TimeSpan.Zero, $"PackSessionsIdleFor: must not be negative (was {PackSessionsIdleFor})");
        Check(IndexCompactMinFreeBytes >= 0, $"IndexCompactMinFreeBytes: must not be negative (was {IndexCompactMinFreeBytes})");
        Check(!ReadOnly || FileSystem is null, "ReadOnly: a read-only view reads the store's own directory; it cannot take a custom FileSystem");
        Check(OpenSegmentHandles >= 1, $"OpenSegmentHandles: must be at least 1 (was {OpenSegmentHandles})");
        if (problems.Count > 0)
        {
            throw new ArgumentException("Invalid engine options: " + string.Join("; ", problems) + ".");
        }
    }
}
