using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using System.Buffers;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// The log-structured store: records go through the group-committed commit log, then into per-session
/// segments, then into the index; reads come from the index and the segments. A background checkpoint
/// writes what changed to the index file (a copy-on-write B+tree) and truncates the log.
/// </summary>
internal sealed partial class StoreEngine : IDisposable
{
    private readonly IFileSystem _fs;
    private readonly EngineOptions _options;
    private readonly IDisposable _lock;
    private readonly SegmentFiles _segments;
    private readonly SegmentAppender _appender;
    private readonly AsyncGate _gate = new();
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly RuntimeDamage _damage = new();
    private readonly SessionReader _reader;
    private readonly SessionContentLoader _content;
    private readonly ILogger _logger;
    private ICommitLog _log;
    private IndexFile _indexFile = null!;
    private long _nextLsn;
    private long _nextSession;
    private Exception? _failure;
    private Task? _backgroundCheckpoint;
    private bool _disposed;

    private StoreEngine(IFileSystem fs, EngineOptions options, IDisposable storeLock, SegmentFiles segments, ILogger logger)
    {
        _fs = fs;
        _logger = logger;
        _options = options;
        _lock = storeLock;
        _segments = segments;
        _appender = new SegmentAppender(segments, options.SegmentMaxBytes);
        _reader = new SessionReader(Index, segments, _damage);
        _content = new SessionContentLoader(() => _indexFile, segments, _damage);
        _log = null!;
    }

    public SessionIndex Index { get; } = new();

    public RecoveryResult Recovery { get; private set; } = null!;

    public EngineOptions Options => _options;

    public DateTimeOffset? LastCheckpoint { get; private set; }

    public long CheckpointCount { get; private set; }

    /// <summary>Damage found at open and since (reads that failed their checksum).</summary>
    public IReadOnlyList<StoreDamage> Damage => [.. Recovery.Damage, .. _damage.Snapshot()];

    public Exception? Failure => _failure ?? _log.Failure;

    public long LogBytes => _log.Length;

    /// <summary>Opens (or creates) a store: lock, recover, checkpoint what recovery replayed, start a fresh log.</summary>
    public static StoreEngine Open(EngineOptions options, ILogger? logger = null)
    {
        var fs = options.FileSystem ?? new PhysicalFileSystem(options.Path);
        fs.CreateDirectory(string.Empty);
        var storeLock = fs.LockExclusive(StoreRoot.LockFile);
        var segments = new SegmentFiles(fs, options.OpenSegmentHandles, options.SyncAllAbove);
        var engine = new StoreEngine(fs, options, storeLock, segments, logger ?? NullLogger.Instance);
        try
        {
            engine.Start();
            return engine;
        }
        catch
        {
            segments.Dispose();
            storeLock.Dispose();
            throw;
        }
    }

    private void Start()
    {
        _fs.CreateDirectory(SegmentFiles.Directory);
        _fs.CreateDirectory(CommitLog.Directory);
        var clean = _fs.FileExists(StoreRoot.CleanFile);
        if (clean)
        {
            // Gone before recovery writes anything (a repair, a rebuilt index): a crash from here on must make
            // the next open a full one, which repairs what this one started.
            _fs.Delete(StoreRoot.CleanFile);
            _fs.SyncDirectory(string.Empty);
        }
        var opened = IndexFileOpener.Open(_fs, clean);
        _indexFile = opened.File;
        Index.Attach(_indexFile, empty: !_indexFile.HasCheckpoint);
        var recovery = new StoreRecovery(_fs, _segments, _appender, Index, _indexFile, opened.Problem, _content);
        var result = recovery.Run(cleanShutdown: opened.Clean, opened.MetaDamage);
        if (!result.CheckpointLoaded && _indexFile.HasCheckpoint)
        {
            // Its sessions did not load: start the file over, or the rebuilt index would be saved as a delta
            // on top of a tree that is not what the entries believe it is.
            ReplaceIndexFile();
        }
        Recovery = result with { ForeignFiles = StoreRoot.ForeignFiles(_fs, result.ForeignFiles) };
        _nextLsn = (long)recovery.NextLsn;
        _nextSession = (long)recovery.NextSession;

        var replayed = result.SegmentRecordsReplayed + result.LogRecordsReplayed > 0 || !result.CheckpointLoaded || result.TornBytesCut > 0 || result.Damage.Count > 0;
        if (replayed)
        {
            // Make what recovery rebuilt durable before the logs it came from are dropped.
            _segments.SyncDirty();
            try
            {
                SaveIndex(IndexDelta.Capture(Index), recovery.NextLsn, recovery.NextLsn, recovery.NextSession);
            }
            catch (InvalidDataException ex)
            {
                RebuildIndexFile(ex, recovery.NextLsn);
            }
        }
        foreach (var log in recovery.ReplayedLogs)
        {
            _fs.Delete(log);
        }
        foreach (var log in recovery.DamagedLogs)
        {
            _fs.Rename(log, log + CommitLog.DamagedSuffix); // kept for inspection, never replayed again
        }
        StoreRoot.RemoveLeftovers(_fs);
        _fs.SyncDirectory(CommitLog.Directory);
        _log = CommitLog.Open(_fs, _options.Durability, _options.BatchedInterval, recovery.NextLsn, _logger);
        StartAutoVacuum();
    }

    // ---- writes ---------------------------------------------------------------------------------------------

    /// <summary>Creates a session from <paramref name="state"/> (encoded, not kept); its new entry, or null when the id exists.</summary>
    public async Task<SessionEntry?> CreateSessionAsync(SessionState state)
    {
        var id = state.Metadata.SessionId;
        if (!Index.TryReserve(id))
        {
            return null;
        }
        var number = (ulong)Interlocked.Increment(ref _nextSession) - 1;
        var batch = RecordBatch.Rent();
        try
        {
            WriteRecords.AddState(batch, number, state);
            await CommitAsync(null, number, batch).ConfigureAwait(false);
            // Filed by the commit; gone only if a delete already followed it.
            return Index.TryGet(number, out var entry) ? entry : throw new SessionNotFoundException(id);
        }
        finally
        {
            Index.Unreserve(id);
            RecordBatch.Return(batch);
        }
    }

    /// <summary>
    /// Appends messages as one batch. Not an async method: an add that completes at once (no fsync to wait for,
    /// no checkpoint holding the gate) runs without a state machine of its own; the returned task carries
    /// every failure, as an async method's would.
    /// </summary>
    public Task AppendMessagesAsync(SessionEntry entry, IReadOnlyList<Message> messages, long writtenTicks)
    {
        var batch = RecordBatch.Rent();
        Task commit;
        try
        {
            // Sealed by CommitAsync (StampLsns) once the LSNs are reserved.
            WriteRecords.AddMessages(batch, entry.Number, messages, writtenTicks);
            commit = CommitAsync(entry, entry.Number, batch);
        }
        catch (Exception ex)
        {
            RecordBatch.Return(batch);
            return Task.FromException(ex);
        }
        if (commit.IsCompleted)
        {
            RecordBatch.Return(batch);
            return commit;
        }
        return ReturnAfterAsync(commit, batch);
    }

    /// <summary>Returns <paramref name="batch"/> to its pool once <paramref name="commit"/> is done with it.</summary>
    private static async Task ReturnAfterAsync(Task commit, RecordBatch batch)
    {
        try
        {
            await commit.ConfigureAwait(false);
        }
        finally
        {
            RecordBatch.Return(batch);
        }
    }

    public async Task WriteStateAsync(SessionEntry entry, SessionState state, ConversationSummary? summary = null, IReadOnlyList<long>? evict = null)
    {
        var batch = RecordBatch.Rent();
        try
        {
            var now = DateTimeOffset.UtcNow.UtcTicks;
            if (summary is not null)
            {
                WriteRecords.AddSummary(batch, entry.Number, summary, state.LastSequence, now);
            }
            if (evict is not null)
            {
                WriteRecords.AddEvict(batch, entry.Number, evict, state.LastSequence, now);
            }
            WriteRecords.AddState(batch, entry.Number, state);
            await CommitAsync(entry, entry.Number, batch).ConfigureAwait(false);
        }
        finally
        {
            RecordBatch.Return(batch);
        }
    }

    /// <summary>Deletes a session: a durable delete record, then its segment files.</summary>
    public async Task DeleteSessionAsync(SessionEntry entry)
    {
        var batch = RecordBatch.Rent();
        try
        {
            long lastSequence;
            lock (entry.Lock)
            {
                lastSequence = entry.State.LastSequence;
            }
            WriteRecords.AddDelete(batch, entry.Number, lastSequence, DateTimeOffset.UtcNow.UtcTicks);
            await CommitAsync(entry, entry.Number, batch, deleting: true).ConfigureAwait(false);
        }
        finally
        {
            RecordBatch.Return(batch);
        }
    }

    // ---- reads (SessionReader) -------------------------------------------------------------------------------

    /// <summary>Live messages of a session matching <paramref name="query"/>, ascending; only the newest <paramref name="newest"/> when set.</summary>
    public List<Message> ReadMessages(SessionEntry entry, MessageQuery query, int? newest = null) => _reader.ReadMessages(entry, query, newest);

    /// <summary>The index entries of the live messages matching <paramref name="query"/>, ascending.</summary>
    public List<MessageEntry> Pick(SessionEntry entry, MessageQuery query, int? newest = null) => _reader.Pick(entry, query, newest);

    /// <summary>Reads and decodes the records of <paramref name="picked"/>; damaged ones are reported and skipped.</summary>
    public List<Message> ReadEntries(SessionEntry entry, List<MessageEntry> picked) => _reader.ReadEntries(entry, picked);

    /// <summary>
    /// Before anything reaches the log: the segment the session appends to must be there (an open handle, or
    /// a file to open). A file lost from under the store fails this session's write with a typed error naming
    /// it, writes nothing, and leaves every other session writing; reopening repairs it (reported).
    /// </summary>
    private void EnsureWritable(SessionEntry entry)
    {
        uint segment;
        lock (entry.Lock)
        {
            segment = entry.Segments[^1].Segment;
        }
        try
        {
            _segments.EnsureOpen(entry.Number, segment);
        }
        catch (FileNotFoundException)
        {
            throw _reader.MissingSegment(entry, segment);
        }
    }

    private void ReportDamage(StoreDamage damage) => _damage.Report(damage);

    /// <summary>Bytes of all store files (segments, logs, checkpoint).</summary>
    public long DiskBytes() => Index.SegmentBytes() + _log.Length + _indexFile.FileBytes;

    /// <summary>Background fsyncs of the commit log so far (Batched mode).</summary>
    public long BackgroundSyncs => (_log as BatchedCommitLog)?.BackgroundSyncs ?? 0;

    /// <summary>
    /// Drops the engine as a killed process would: no checkpoint, no flush, threads stopped. For crash tests,
    /// on a device that has already been cut off.
    /// </summary>
    public void Abandon()
    {
        _disposed = true;
        _stopBackground.Cancel();
        _log.Abandon();
        try
        {
            _backgroundCheckpoint?.Wait();
        }
        catch (AggregateException)
        {
            // The device is gone; the checkpoint failing is expected.
        }
    }

    /// <summary>
    /// Closes the store: a last checkpoint and the clean-close marker when it is healthy, then every file and
    /// the lock, each released even when another fails to close (a full disk must not keep the store locked).
    /// </summary>
    /// <exception cref="StorageFailureException">The close itself failed (its checkpoint, or flushing a file);
    /// everything is released all the same, and the next open recovers from the commit log.</exception>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        StopAutoVacuum();
        try
        {
            _backgroundCheckpoint?.Wait();
        }
        catch (AggregateException)
        {
            // A failed background checkpoint is already recorded in Failure.
        }
        // A failure from before the close was already reported to the writes it stopped; the close reports
        // only what goes wrong in it (and must not mask the caller's own exception in an `await using`).
        Exception? problem = null;
        if (Failure is null)
        {
            try
            {
                // A clean close leaves a current checkpoint, so the next open reads no log, and a marker
                // that lets it trust the checkpoint's segment lengths without reading the segments.
                CheckpointAsync().GetAwaiter().GetResult();
                if (!_damage.NeedsFullOpen)
                {
                    using (var marker = _fs.Open(StoreRoot.CleanFile, create: true))
                    {
                        marker.Flush();
                    }
                    _fs.SyncDirectory(string.Empty);
                }
            }
            catch (Exception ex) when (ex is IOException or MemoryException)
            {
                _failure ??= ex;
                problem = ex;
            }
        }
        Release(_log, ref problem);
        Release(_segments, ref problem);
        Release(_indexFile, ref problem);
        Release(_lock, ref problem);
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
