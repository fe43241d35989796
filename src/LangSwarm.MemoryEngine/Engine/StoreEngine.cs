using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// The log-structured store, as a facade over parts with one job each, sharing one <see cref="EngineCore"/>
/// (whose documentation states the lock order): records go through the commit log into per-session segments
/// and the index (<see cref="StoreWriter"/>); reads come from the index and the segments
/// (<see cref="SessionReader"/>); checkpoints write what changed to the index file and truncate the log
/// (<see cref="Checkpointer"/>); vacuum rewrites sessions (<see cref="Compactor"/>); verify compares the index
/// with a scan of every segment (<see cref="StoreVerifier"/>). This class opens, recovers and closes.
/// </summary>
internal sealed class StoreEngine : IDisposable
{
    private readonly EngineCore _core;
    private readonly IDisposable _lock;
    private readonly SessionReader _reader;
    private readonly SessionContentLoader _content;
    private readonly StoreWriter _writer;
    private readonly Checkpointer _checkpointer;
    private readonly Compactor _compactor;
    private readonly LeftoverSweeper _sweeper;

    private StoreEngine(IFileSystem fs, EngineOptions options, IDisposable storeLock, SegmentFiles segments, ILogger logger, StoreCipher? cipher)
    {
        _core = new EngineCore(fs, options, segments, logger, cipher);
        _lock = storeLock;
        _reader = new SessionReader(_core.Index, _core.Files, _core.Damage);
        _content = new SessionContentLoader(fs, () => _core.IndexFile, _core.Files, _core.Damage, _core.Cipher);
        _checkpointer = new Checkpointer(_core);
        _compactor = new Compactor(_core, _checkpointer);
        _sweeper = new LeftoverSweeper(_core, _compactor);
        _writer = new StoreWriter(_core, _checkpointer, _reader);
    }

    public SessionIndex Index => _core.Index;

    public RecoveryResult Recovery { get; private set; } = null!;

    public EngineOptions Options => _core.Options;

    public DateTimeOffset? LastCheckpoint => _checkpointer.LastCheckpoint;

    public long CheckpointCount => _checkpointer.CheckpointCount;

    /// <summary>Sessions the last checkpoint wrote to the index file.</summary>
    public int LastCheckpointSessions => _checkpointer.LastCheckpointSessions;

    /// <summary>Damage found at open and since (reads that failed their checksum).</summary>
    public IReadOnlyList<StoreDamage> Damage => [.. Recovery.Damage, .. _core.Damage.Snapshot()];

    public Exception? Failure => _core.Failure;

    public long LogBytes => _core.Log.Length;

    /// <summary>The LSN the next record gets.</summary>
    public ulong NextLsn => _core.NextLsn;

    /// <summary>Bytes of the index file.</summary>
    public long IndexFileBytes => _checkpointer.IndexFileBytes;

    /// <summary>Free pages in the index file (reused by later checkpoints; vacuum repacks the file).</summary>
    public int IndexFreePages => _checkpointer.IndexFreePages;

    /// <summary>When the last vacuum ended and what it did.</summary>
    public (DateTimeOffset At, VacuumReport Report)? LastVacuum => _compactor.LastVacuum;

    /// <summary>Background fsyncs of the commit log so far (Batched mode).</summary>
    public long BackgroundSyncs => (_core.Log as BatchedCommitLog)?.BackgroundSyncs ?? 0;

    /// <summary>Opens (or creates) a store: lock, recover, checkpoint what recovery replayed, start a fresh log.</summary>
    public static StoreEngine Open(EngineOptions options, ILogger? logger = null)
    {
        var fs = options.FileSystem ?? new PhysicalFileSystem(options.Path);
        fs.CreateDirectory(string.Empty);
        if (fs is PhysicalFileSystem physical && options.Permissions != PermissionCheck.Ignore)
        {
            CheckPermissions(physical, options.Permissions, logger);
        }
        var storeLock = fs.LockExclusive(StoreRoot.LockFile);
        var cipher = StoreCipher.From(options.Encryption);
        var segments = new SegmentFiles(fs, options.OpenSegmentHandles, options.SyncAllAbove, cipher?.KeyId ?? 0);
        var engine = new StoreEngine(fs, options, storeLock, segments, logger ?? NullLogger.Instance, cipher);
        try
        {
            engine.Start();
            return engine;
        }
        catch
        {
            segments.Dispose();
            engine._core.Packs.Dispose();
            storeLock.Dispose();
            cipher?.Dispose();
            throw;
        }
    }

    /// <summary>Refuses (or warns of) a store that users other than its owner can write.</summary>
    private static void CheckPermissions(PhysicalFileSystem fs, PermissionCheck check, ILogger? logger)
    {
        var open = fs.WritableByOthers();
        if (open.Count == 0)
        {
            return;
        }
        var paths = string.Join(", ", open);
        if (check == PermissionCheck.Refuse)
        {
            throw new StorePermissionException($"Users other than the owner can write the store at '{fs.Root}' ({paths}): they could change or destroy its conversations. Run `chmod -R go-w '{fs.Root}'`, or open it with EngineOptions.Permissions = Warn (setting permissions=warn) if it is shared on purpose.");
        }
        if (logger is not null)
        {
            MemoryLog.StoreWritableByOthers(logger, fs.Root, paths);
        }
    }

    private void Start()
    {
        _core.Fs.CreateDirectory(SegmentFiles.Directory);
        _core.Fs.CreateDirectory(PackFiles.Directory);
        _core.Fs.CreateDirectory(CommitLog.Directory);
        // Before anything below changes a file: a wrong or missing key leaves the store as it was.
        StoreKeys.Check(_core.Fs, _core.Cipher);
        var clean = _core.Fs.FileExists(StoreRoot.CleanFile);
        if (clean)
        {
            // Gone before recovery writes anything (a repair, a rebuilt index): a crash from here on must make
            // the next open a full one, which repairs what this one started.
            _core.Fs.Delete(StoreRoot.CleanFile);
            _core.Fs.SyncDirectory(string.Empty);
        }
        var (recovery, result) = Recover(clean);
        if (!result.CheckpointLoaded && _core.IndexFile.HasCheckpoint)
        {
            // Its sessions did not load: start the file over, or the rebuilt index would be saved as a delta
            // on top of a tree that is not what the entries believe it is.
            _checkpointer.ReplaceIndexFile();
        }
        Recovery = result with { ForeignFiles = StoreRoot.ForeignFiles(_core.Fs, result.ForeignFiles) };
        _core.StartCounters(recovery.NextLsn, recovery.NextSession);
        if (_core.Cipher is { SealedSince: ulong.MaxValue } cipher)
        {
            // The first open of a plain store with a key: what recovery replayed was plain and genuine; from here on
            // every record is sealed (the next meta page keeps it).
            cipher.SealedSince = recovery.NextLsn;
        }

        var replayed = result.SegmentRecordsReplayed + result.LogRecordsReplayed > 0 || !result.CheckpointLoaded || result.TornBytesCut > 0 || result.Damage.Count > 0;
        // What recovery rebuilt on top of a loaded checkpoint is committed by a checkpoint in the background,
        // which keeps the replayed logs until then (a crash before it replays them again). Without a loaded
        // checkpoint the index file was rebuilt and is committed here, as is a read-only view's private copy, and
        // an open that found damage reports it with its logs already set aside.
        var deferred = replayed && result.CheckpointLoaded && !_core.ReadOnly && result.Damage.Count == 0 && recovery.DamagedLogs.Count == 0;
        if (replayed && !deferred)
        {
            // Make what recovery rebuilt durable before the logs it came from are dropped.
            _core.Segments.Deferred.SettleAll();
            _core.Segments.SyncDirty();
            try
            {
                _checkpointer.SaveIndex(IndexDelta.Capture(_core.Index), recovery.NextLsn, recovery.NextLsn, recovery.NextSession);
            }
            catch (InvalidDataException ex)
            {
                _checkpointer.RebuildIndexFile(ex, recovery.NextLsn);
            }
        }
        if (deferred)
        {
            // A log named where the new one starts holds no record (each would be at or above the next LSN).
            var fresh = $"{CommitLog.Directory}/{CommitLog.FileNameFor(recovery.NextLsn)}";
            if (recovery.ReplayedLogs.Remove(fresh))
            {
                _core.Fs.Delete(fresh);
            }
            _checkpointer.AdoptRecoveredLogs(recovery.ReplayedLogs);
        }
        else
        {
            foreach (var log in recovery.ReplayedLogs)
            {
                _core.Fs.Delete(log);
            }
            foreach (var log in recovery.DamagedLogs)
            {
                _core.Fs.Rename(log, log + CommitLog.DamagedSuffix); // kept for inspection, never replayed again
            }
        }
        if (!result.CheckpointLoaded && !_core.ReadOnly && _core.Fs.FileExists(StoreRoot.RebuildFile))
        {
            _core.Fs.Delete(StoreRoot.RebuildFile); // the index just committed was rebuilt from the segments
        }
        StoreRoot.RemoveLeftovers(_core.Fs);
        _core.Fs.SyncDirectory(CommitLog.Directory);
        _core.Log = CommitLog.Open(_core.Fs, Options.Durability, Options.BatchedInterval, recovery.NextLsn, _core.Logger, _core.Cipher?.KeyId ?? 0);
        _checkpointer.LogOpened(recovery.NextLsn);
        if (deferred)
        {
            _checkpointer.StartBackground();
        }
        if (recovery.NeedsSweep && !_core.ReadOnly)
        {
            _sweeper.Start(recovery.NextSession);
        }
        _compactor.StartAutoVacuum();
    }

    /// <summary>
    /// Recovery into the index file, or, when it meets a damaged session record (sessions load as recovery needs
    /// them), once more into a new file rebuilt from the segments: every step of recovery is idempotent.
    /// </summary>
    private (StoreRecovery, RecoveryResult) Recover(bool clean)
    {
        for (var attempt = 0; ; attempt++)
        {
            var opened = IndexFileOpener.Open(_core.Fs, clean, Options.IndexCacheBytes, _core.Cipher);
            _core.IndexFile = opened.File;
            _core.Index.Attach(_core.IndexFile, empty: !_core.IndexFile.HasCheckpoint, _content);
            var recovery = new StoreRecovery(_core.Fs, _core.Segments, _core.Packs, _core.Appender, _core.Index, _core.IndexFile, opened.Problem, _content);
            try
            {
                return (recovery, recovery.Run(cleanShutdown: opened.Clean, opened.MetaDamage, scanAllSegments: Options.ReadOnly));
            }
            catch (StorageCorruptionException) when (attempt == 0 && !_core.ReadOnly && _core.Fs.FileExists(StoreRoot.RebuildFile))
            {
                _core.IndexFile.Dispose();
                _core.Index.Reset();
                clean = false;
            }
        }
    }

    // ---- the parts' operations ------------------------------------------------------------------------------

    /// <summary>Creates a session from <paramref name="state"/> (encoded, not kept); its new entry, or null when the id exists.</summary>
    public Task<SessionEntry?> CreateSessionAsync(SessionState state) => _core.ReadOnly ? Task.FromException<SessionEntry?>(_core.ReadOnlyError()) : _writer.CreateSessionAsync(state);

    /// <summary>Appends messages as one batch (see <see cref="StoreWriter.AppendMessagesAsync"/>).</summary>
    public Task AppendMessagesAsync(SessionEntry entry, IReadOnlyList<Message> messages, long writtenTicks) =>
        _core.ReadOnly ? Task.FromException(_core.ReadOnlyError()) : _writer.AppendMessagesAsync(entry, messages, writtenTicks);

    /// <summary>Writes a session state, with a summary and evictions when given, as one batch.</summary>
    public Task WriteStateAsync(SessionEntry entry, SessionState state, ConversationSummary? summary = null, IReadOnlyList<long>? evict = null) =>
        _core.ReadOnly ? Task.FromException(_core.ReadOnlyError()) : _writer.WriteStateAsync(entry, state, summary, evict);

    /// <summary>Deletes a session: a durable delete record, then its segment files.</summary>
    public Task DeleteSessionAsync(SessionEntry entry) => _core.ReadOnly ? Task.FromException(_core.ReadOnlyError()) : _writer.DeleteSessionAsync(entry);

    /// <summary>Live messages of a session matching <paramref name="query"/>, ascending; only the newest <paramref name="newest"/> when set.</summary>
    public List<Message> ReadMessages(SessionEntry entry, MessageQuery query, int? newest = null) => _reader.ReadMessages(entry, query, newest);

    /// <summary>The index entries of the live messages matching <paramref name="query"/>, ascending.</summary>
    public List<MessageEntry> Pick(SessionEntry entry, MessageQuery query, int? newest = null) => _reader.Pick(entry, query, newest);

    /// <summary>Reads and decodes the records of <paramref name="picked"/>; damaged ones are reported and skipped.</summary>
    public List<Message> ReadEntries(SessionEntry entry, List<MessageEntry> picked) => _reader.ReadEntries(entry, picked);

    /// <summary>A checkpoint now (see <see cref="Checkpointer.CheckpointAsync"/>).</summary>
    public Task CheckpointAsync() => _checkpointer.CheckpointAsync();

    /// <summary>
    /// Copies the store's files into <paramref name="destination"/> while writes go on (<see cref="StoreSnapshot"/>):
    /// after a checkpoint, which bounds the log to copy, and with checkpoints held off until the copy ends, so
    /// that this process's own checkpoints never start it again. A read-only view copies the store it views.
    /// </summary>
    public async Task<SnapshotCopy> SnapshotAsync(string destination, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        if (_core.ReadOnly)
        {
            return await Task.Run(() => StoreSnapshot.Copy(Options.Path, destination, withSegments: true, durable: true, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        if (Options.FileSystem is not null)
        {
            throw new NotSupportedException("A backup copies the store's directory; a store on a custom IFileSystem has none.");
        }
        await _checkpointer.CheckpointAsync().ConfigureAwait(false);
        await _core.CheckpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await Task.Run(() => StoreSnapshot.Copy(Options.Path, destination, withSegments: true, durable: true, progress, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _core.CheckpointLock.Release();
        }
    }

    /// <summary>A vacuum pass now (see <see cref="Compactor.VacuumAsync"/>).</summary>
    public Task<VacuumReport> VacuumAsync(double minDeadFraction, CancellationToken cancellationToken) =>
        _core.ReadOnly ? Task.FromException<VacuumReport>(_core.ReadOnlyError()) : _compactor.VacuumAsync(minDeadFraction, cancellationToken);

    /// <summary>A vacuum pass that rewrites every session and the index file (see <see cref="EngineBackend.RekeyAsync"/>).</summary>
    public Task<VacuumReport> RekeyAsync(CancellationToken cancellationToken) =>
        _core.ReadOnly ? Task.FromException<VacuumReport>(_core.ReadOnlyError()) : _compactor.VacuumAsync(0.0, cancellationToken, rewriteAll: true);

    /// <summary>
    /// Rebuilds an index from nothing but the segment files and compares it with the live index: the check
    /// behind <c>lsmem verify</c> and the crash properties' "index agrees with a full scan". No vacuum pass runs
    /// meanwhile (its superseded segments stay on disk until its end, and a scan of every file would take them
    /// for the session's), nor a checkpoint (the index file is then one committed tree), nor a write.
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(CancellationToken cancellationToken)
    {
        await _sweeper.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await _compactor.WhileIdleAsync(() => VerifyIdleAsync(cancellationToken), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Completes when the work an open leaves to the background has run: the checkpoint that commits what recovery
    /// rebuilt, and the sweep after an unclean open (at once when neither was started).
    /// </summary>
    public Task OpenWorkCompletion => Task.WhenAll(_sweeper.Completion.ContinueWith(static _ => { }, TaskScheduler.Default), _checkpointer.Background);

    private async Task<VerifyReport> VerifyIdleAsync(CancellationToken cancellationToken)
    {
        await _core.CheckpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _core.Gate.EnterExclusiveAsync().ConfigureAwait(false);
            try
            {
                return StoreVerifier.Verify(_core.Fs, _core.Segments, _core.Packs, _core.Index, _core.IndexFile, cancellationToken);
            }
            finally
            {
                _core.Gate.ExitExclusive();
            }
        }
        finally
        {
            _core.CheckpointLock.Release();
        }
    }

    /// <summary>Bytes of all store files (segments, logs, checkpoint).</summary>
    public long DiskBytes() => _core.DiskBytes();

    /// <summary>
    /// Drops the engine as a killed process would: no checkpoint, no flush, threads stopped. For crash tests,
    /// on a device that has already been cut off.
    /// </summary>
    public void Abandon()
    {
        _core.Closed = true;
        _compactor.Abandon();
        _sweeper.Stop();
        _core.Log.Abandon();
        _checkpointer.WaitForBackground(); // the device is gone: its failing is expected
    }

    /// <summary>
    /// Closes the store: a last checkpoint and the clean-close marker when it is healthy, then every file and
    /// the lock, each released even when another fails to close (a full disk must not keep the store locked).
    /// </summary>
    /// <exception cref="StorageFailureException">The close itself failed (its checkpoint, or flushing a file);
    /// everything is released all the same, and the next open recovers from the commit log.</exception>
    public void Dispose()
    {
        if (_core.Closed)
        {
            return;
        }
        _core.Closed = true;
        _sweeper.Stop();
        _compactor.Stop();
        _checkpointer.WaitForBackground();
        // A failure from before the close was already reported to the writes it stopped; the close reports
        // only what goes wrong in it (and must not mask the caller's own exception in an `await using`).
        Exception? problem = null;
        if (Failure is null)
        {
            try
            {
                // A clean close leaves a current checkpoint, so the next open reads no log, and a marker
                // that lets it trust the checkpoint's segment lengths without reading the segments.
                _checkpointer.CheckpointAsync().GetAwaiter().GetResult();
                // Not while a sweep is owed either: the next open must run it.
                if (!_core.Damage.NeedsFullOpen && !_sweeper.Pending)
                {
                    using (var marker = _core.Fs.Open(StoreRoot.CleanFile, create: true))
                    {
                        marker.Flush();
                    }
                    _core.Fs.SyncDirectory(string.Empty);
                }
            }
            catch (Exception ex) when (ex is IOException or MemoryException)
            {
                _core.Fail(ex);
                problem = ex;
            }
        }
        Release(_core.Log, ref problem);
        Release(_core.Segments, ref problem);
        Release(_core.Packs, ref problem);
        Release(_core.IndexFile, ref problem);
        Release(_lock, ref problem);
        _core.Cipher?.Dispose();
        if (problem is not null)
        {
            throw problem is StorageFailureException { IsDiskFull: true } sf ? sf : StorageFailureException.From(
                problem is StorageFailureException { InnerException: { } inner } ? inner : problem,
                "Closing the store failed; everything was released, and the next open recovers from the commit log");
        }
    }

    private static void Release(IDisposable resource, ref Exception? problem)
    {
        try
        {
            resource.Dispose();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problem ??= ex;
        }
    }
}
