using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Checkpoints (FORMAT.md §6.4): the one that a full log starts in the background, the one a close or a vacuum
/// asks for, and the index file's rebuild when a checkpoint meets a damaged page. Owns the background
/// checkpoint task and the checkpoint counters; takes <see cref="EngineCore.CheckpointLock"/>, then the gate.
/// </summary>
internal sealed class Checkpointer(EngineCore core)
{
    private readonly EngineCore _core = core;
    private readonly object _backgroundLock = new();
    private readonly List<string> _recoveredLogs = [];
    private Task? _backgroundCheckpoint;

    // The first LSN of the current log file: records since the last checkpoint are the next LSN less this.
    private ulong _logFirstLsn;

    /// <summary>When the last checkpoint ended.</summary>
    public DateTimeOffset? LastCheckpoint { get; private set; }

    /// <summary>Checkpoints since the open.</summary>
    public long CheckpointCount { get; private set; }

    /// <summary>The background checkpoint in progress or last run (completed when none ran); it never faults.</summary>
    public Task Background
    {
        get
        {
            lock (_backgroundLock)
            {
                return _backgroundCheckpoint ?? Task.CompletedTask;
            }
        }
    }

    /// <summary>Waits for a background checkpoint in progress (its failure is already in the store's failure).</summary>
    public void WaitForBackground()
    {
        try
        {
            _backgroundCheckpoint?.Wait();
        }
        catch (AggregateException)
        {
            // Recorded in Failure by the task itself (or the device is gone, in a crash test).
        }
    }

    /// <summary>
    /// Checkpoint: (1) under the exclusive gate, rotate the log at LSN B and capture what changed in the index —
    /// every record below B is then in a segment and in the capture; (2) fsync the segments written since the
    /// last checkpoint and their directory; (3) commit the changes to the index file (its meta page switch is
    /// atomic); (4) delete the logs below B.
    /// A crash between any two steps leaves a state recovery repairs.
    /// </summary>
    public async Task CheckpointAsync()
    {
        await _core.CheckpointLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await CheckpointCoreAsync().ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            MemoryTelemetry.EngineCheckpointHistogram.Record(elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
            MemoryLog.CheckpointCompleted(_core.Logger, elapsed.TotalMilliseconds);
        }
        finally
        {
            _core.CheckpointLock.Release();
        }
    }

    /// <summary>The checkpoint itself; the caller holds the checkpoint lock.</summary>
    public async Task CheckpointCoreAsync()
    {
        _core.ThrowIfFailed();
        // What an unclean open left owed is written before the checkpoint that lets its logs go, and outside
        // the gate: writes go on meanwhile (each settles its own session first).
        _core.Segments.Deferred.SettleAll();
        ulong covered;
        string? oldLog;
        IndexDelta delta;
        await _core.Gate.EnterExclusiveAsync().ConfigureAwait(false);
        try
        {
            covered = _core.NextLsn;
            oldLog = _core.Log.Rotate(covered);
            Volatile.Write(ref _logFirstLsn, covered);
            delta = IndexDelta.Capture(_core.Index); // only sessions changed since the last checkpoint
        }
        finally
        {
            _core.Gate.ExitExclusive();
        }
        try
        {
            _core.Segments.SyncDirty();
            try
            {
                SaveIndex(delta, covered, covered, _core.NextSession, inParts: true);
            }
            catch (InvalidDataException ex)
            {
                _core.Index.Packs.Uncommitted(delta.Packs);
                await RebuildIndexFileExclusiveAsync(ex, covered).ConfigureAwait(false);
            }
            if (oldLog is not null || _recoveredLogs.Count > 0)
            {
                if (oldLog is not null)
                {
                    _core.Fs.Delete($"{CommitLog.Directory}/{oldLog}");
                }
                // The logs an open replayed: this commit covers every record they hold.
                foreach (var log in _recoveredLogs)
                {
                    _core.Fs.Delete(log);
                }
                _recoveredLogs.Clear();
                _core.Fs.SyncDirectory(CommitLog.Directory);
            }
        }
        catch (IOException ex)
        {
            _core.Fail(ex);
            throw StorageErrors.Wrap(ex, "Checkpoint failed");
        }
        LastCheckpoint = DateTimeOffset.UtcNow;
        CheckpointCount++;
        LastCheckpointSessions = delta.Saves.Count;
        UnloadColdSessions();
        _core.Index.TrimCache();
    }

    /// <summary>Past <see cref="EngineOptions.MaxLoadedSessions"/>, unloads the least recently used clean sessions' entries.</summary>
    private void UnloadColdSessions()
    {
        var loaded = new List<(long LastUsed, SessionEntry Entry)>();
        foreach (var e in _core.Index.Resident())
        {
            if (e.MessagesLoaded || e.SummariesLoaded)
            {
                loaded.Add((e.LastUsed, e));
            }
        }
        var excess = loaded.Count - _core.Options.MaxLoadedSessions;
        if (excess <= 0)
        {
            return;
        }
        loaded.Sort((a, b) => a.LastUsed.CompareTo(b.LastUsed));
        foreach (var (_, e) in loaded)
        {
            lock (e.Lock)
            {
                if (e.Unload() && --excess == 0)
                {
                    break;
                }
            }
        }
    }

    /// <summary><see cref="RebuildIndexFile"/> with writers kept out by the exclusive gate (caller holds the checkpoint lock).</summary>
    public async Task RebuildIndexFileExclusiveAsync(InvalidDataException why, ulong covered)
    {
        await _core.Gate.EnterExclusiveAsync().ConfigureAwait(false);
        try
        {
            RebuildIndexFile(why, covered);
        }
        finally
        {
            _core.Gate.ExitExclusive();
        }
    }

    /// <summary>
    /// A checkpoint met a damaged page of the index file: writes a new file from the in-memory index (every
    /// session's content loaded first, from the old file or, where that fails, from its segments). The caller
    /// holds the checkpoint lock and keeps writers out.
    /// </summary>
    public void RebuildIndexFile(InvalidDataException why, ulong covered)
    {
        _core.Damage.Report(new StoreDamage(IndexFile.FileName, 0, _core.IndexFile.FileBytes, $"index file damaged ({why.Message}); rebuilt from the index in memory"));
        List<SessionEntry> all;
        try
        {
            all = _core.Index.LoadAll(); // the new file is written from memory: every session must be there
        }
        catch (InvalidDataException ex)
        {
            // The file's session records themselves are damaged: only a reopen, which rebuilds from the segments, can tell.
            _core.Fail(ex);
            throw StorageFailureException.From(ex, "The index file is damaged beyond what memory holds; reopen the store to rebuild it from the segments");
        }
        foreach (var e in all)
        {
            lock (e.Lock)
            {
                _ = e.LoadMessages();
                _ = e.LoadSummaries();
            }
        }
        ReplaceIndexFile();
        _core.Index.DrainRemoved();
        foreach (var e in all)
        {
            lock (e.Lock)
            {
                e.Saved = SavedImage.None;
            }
        }
        // The new file names every record applied so far, also those written since the checkpoint's own
        // segment sync (or, from a vacuum, since the last checkpoint): they must be durable in their segments
        // first, or a crash leaves the file naming bytes the segments never kept, while recovery skips the
        // log records that hold them (they are at or below each session's last LSN in the file).
        _core.Segments.SyncDirty();
        SaveIndex(IndexDelta.Capture(_core.Index, all: true), covered, Math.Max(covered, _core.NextLsn), _core.NextSession);
    }

    /// <summary>
    /// Commits <paramref name="delta"/> to the index file, then lets the index list those sessions from it. With
    /// <paramref name="inParts"/>, over a file that already holds a checkpoint, a large delta commits in parts
    /// (<see cref="IndexDelta.Split"/>) that keep the covered LSN where it was until the last one: the tree then
    /// holds one part's changed pages in memory at a time, not every page a checkpoint after writes to thousands
    /// of sessions touches. Each part is a state recovery repairs, since records apply only above each session's
    /// last applied LSN and the logs stay until the last part is committed.
    /// </summary>
    public void SaveIndex(IndexDelta delta, ulong covered, ulong nextLsn, ulong nextSession, bool inParts = false)
    {
        var parts = inParts && _core.IndexFile.HasCheckpoint ? delta.Split(_core.Options.CheckpointPartEntries) : [delta];
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var last = i == parts.Count - 1;
            var totals = _core.Index.TotalsAfter(part);
            _core.IndexFile.Save(part, last ? covered : _core.IndexFile.CoveredLsn, nextLsn, nextSession, totals);
            _core.Index.Committed(part, totals);
        }
        FinishPacks(delta.Packs);
    }

    /// <summary>
    /// After a commit: erases the pack groups it released and deletes the packs it left with nothing live
    /// (FORMAT.md §10). The commit recorded both, so a crash before they are done is finished by the next open.
    /// </summary>
    private void FinishPacks(PackDelta packs)
    {
        if (packs.Erase.Count == 0 && packs.Delete.Count == 0)
        {
            return;
        }
        foreach (var (pack, offset, length) in packs.Erase)
        {
            _core.Packs.Erase(pack, offset, length);
        }
        _core.Packs.SyncDirty();
        foreach (var pack in packs.Delete)
        {
            _core.Packs.Delete(pack);
        }
        if (packs.Delete.Count > 0)
        {
            _core.Packs.SyncDirectory();
        }
        _core.Index.Packs.Erased(packs);
    }

    /// <summary>Puts a new, empty index file in place of the current one; listings keep working from memory meanwhile.</summary>
    public void ReplaceIndexFile()
    {
        _core.Index.Attach(null, empty: true);
        _core.IndexFile.Dispose();
        _core.IndexFile = IndexFile.Recreate(_core.Fs, _core.Options.IndexCacheBytes, _core.Cipher);
        _core.Index.Attach(_core.IndexFile, empty: true);
    }

    /// <summary>Bytes of the index file.</summary>
    public long IndexFileBytes => _core.IndexFile.FileBytes;

    /// <summary>Free pages in the index file (reused by later checkpoints; vacuum repacks the file).</summary>
    public int IndexFreePages => _core.IndexFile.FreePages;

    /// <summary>Sessions the last checkpoint wrote to the index file.</summary>
    public int LastCheckpointSessions { get; private set; }

    /// <summary>
    /// Takes over the logs an open replayed without damage: they stay where they are until the next checkpoint has
    /// committed what recovery rebuilt from them, and then go. The open then does not wait for an fsync of every
    /// segment it touched and an index commit.
    /// </summary>
    public void AdoptRecoveredLogs(IEnumerable<string> replayed) => _recoveredLogs.AddRange(replayed);

    /// <summary>The log the open started begins at <paramref name="firstLsn"/> (what the record count starts from).</summary>
    public void LogOpened(ulong firstLsn) => Volatile.Write(ref _logFirstLsn, firstLsn);

    /// <summary>
    /// Starts a checkpoint in the background once the commit log holds <see cref="EngineOptions.CheckpointLogBytes"/>
    /// or <see cref="EngineOptions.CheckpointRecords"/> records (one at a time).
    /// </summary>
    public void MaybeCheckpoint()
    {
        var full = _core.Log.Length >= _core.Options.CheckpointLogBytes || _core.NextLsn - Volatile.Read(ref _logFirstLsn) >= (ulong)_core.Options.CheckpointRecords;
        if (!full || _core.Closed)
        {
            return;
        }
        StartBackground();
    }

    /// <summary>Starts a checkpoint in the background now, unless one is running (the open's, after a recovery).</summary>
    public void StartBackground()
    {
        lock (_backgroundLock)
        {
            if (_backgroundCheckpoint is { IsCompleted: false })
            {
                return;
            }
            _backgroundCheckpoint = Task.Run(async () =>
            {
                try
                {
                    await CheckpointAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or MemoryException)
                {
                    _core.Fail(ex);
                }
            });
        }
    }
}
