using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// Checkpoint: (1) under the exclusive gate, rotate the log at LSN B and capture what changed in the index —
    /// every record below B is then in a segment and in the capture; (2) fsync the segments written since the
    /// last checkpoint and their directory; (3) commit the changes to the index file (its meta page switch is
    /// atomic); (4) delete the logs below B.
    /// A crash between any two steps leaves a state recovery repairs.
    /// </summary>
    public async Task CheckpointAsync()
    {
        await _checkpointLock.WaitAsync().ConfigureAwait(false);
        try
        {
            var started = Stopwatch.GetTimestamp();
            await CheckpointCoreAsync().ConfigureAwait(false);
            var elapsed = Stopwatch.GetElapsedTime(started);
            MemoryTelemetry.EngineCheckpointHistogram.Record(elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
            MemoryLog.CheckpointCompleted(_logger, elapsed.TotalMilliseconds);
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    /// <summary>The checkpoint itself; the caller holds the checkpoint lock.</summary>
    private async Task CheckpointCoreAsync()
    {
        ThrowIfFailed();
        ulong covered;
        string? oldLog;
        IndexDelta delta;
        await _gate.EnterExclusiveAsync().ConfigureAwait(false);
        try
        {
            covered = (ulong)Interlocked.Read(ref _nextLsn);
            oldLog = _log.Rotate(covered);
            delta = IndexDelta.Capture(Index); // only sessions changed since the last checkpoint
        }
        finally
        {
            _gate.ExitExclusive();
        }
        try
        {
            _segments.SyncDirty();
            try
            {
                SaveIndex(delta, covered, covered, (ulong)Interlocked.Read(ref _nextSession));
            }
            catch (InvalidDataException ex)
            {
                await RebuildIndexFileExclusiveAsync(ex, covered).ConfigureAwait(false);
            }
            if (oldLog is not null)
            {
                _fs.Delete($"{CommitLog.Directory}/{oldLog}");
                _fs.SyncDirectory(CommitLog.Directory);
            }
        }
        catch (IOException ex)
        {
            _failure ??= ex;
            throw Recovery_StorageErrors(ex);
        }
        LastCheckpoint = DateTimeOffset.UtcNow;
        CheckpointCount++;
        LastCheckpointSessions = delta.Saves.Count;
        UnloadColdSessions();
    }

    /// <summary>Past <see cref="EngineOptions.MaxLoadedSessions"/>, unloads the least recently used clean sessions' entries.</summary>
    private void UnloadColdSessions()
    {
        var loaded = new List<(long LastUsed, SessionEntry Entry)>();
        foreach (var e in Index.All())
        {
            if (e.MessagesLoaded || e.SummariesLoaded)
            {
                loaded.Add((e.LastUsed, e));
            }
        }
        var excess = loaded.Count - _options.MaxLoadedSessions;
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
    private async Task RebuildIndexFileExclusiveAsync(InvalidDataException why, ulong covered)
    {
        await _gate.EnterExclusiveAsync().ConfigureAwait(false);
        try
        {
            RebuildIndexFile(why, covered);
        }
        finally
        {
            _gate.ExitExclusive();
        }
    }

    /// <summary>
    /// A checkpoint met a damaged page of the index file: writes a new file from the in-memory index (every
    /// session's content loaded first, from the old file or, where that fails, from its segments). The caller
    /// holds the checkpoint lock and keeps writers out.
    /// </summary>
    private void RebuildIndexFile(InvalidDataException why, ulong covered)
    {
        ReportDamage(new StoreDamage(IndexFile.FileName, 0, _indexFile.FileBytes, $"index file damaged ({why.Message}); rebuilt from the index in memory"));
        var all = Index.All();
        foreach (var e in all)
        {
            lock (e.Lock)
            {
                _ = e.LoadMessages();
                _ = e.LoadSummaries();
            }
        }
        ReplaceIndexFile();
        Index.DrainRemoved();
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
        _segments.SyncDirty();
        SaveIndex(IndexDelta.Capture(Index, all: true), covered, Math.Max(covered, (ulong)Interlocked.Read(ref _nextLsn)), (ulong)Interlocked.Read(ref _nextSession));
    }

    /// <summary>Commits <paramref name="delta"/> to the index file, then lets the index list those sessions from it.</summary>
    private void SaveIndex(IndexDelta delta, ulong covered, ulong nextLsn, ulong nextSession)
    {
        _indexFile.Save(delta, covered, nextLsn, nextSession);
        Index.Committed(delta);
    }

    /// <summary>Puts a new, empty index file in place of the current one; listings keep working from memory meanwhile.</summary>
    private void ReplaceIndexFile()
    {
        Index.Attach(null, empty: true);
        _indexFile.Dispose();
        _indexFile = IndexFile.Recreate(_fs);
        Index.Attach(_indexFile, empty: true);
    }

    /// <summary>Bytes of the index file.</summary>
    public long IndexFileBytes => _indexFile.FileBytes;

    /// <summary>Free pages in the index file (reused by later checkpoints; vacuum repacks the file).</summary>
    public int IndexFreePages => _indexFile.FreePages;

    /// <summary>Sessions the last checkpoint wrote to the index file.</summary>
    public int LastCheckpointSessions { get; private set; }

    private static Exception Recovery_StorageErrors(IOException ex) => LangSwarm.MemoryEngine.Recovery.StorageErrors.Wrap(ex, "Checkpoint failed");

    private void MaybeCheckpoint()
    {
        if (_log.Length < _options.CheckpointLogBytes || _disposed)
        {
            return;
        }
        lock (_gate)
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
                catch (Exception ex) when (ex is IOException or LangSwarm.Memory.MemoryException)
                {
                    _failure ??= ex;
                }
            });
        }
    }
}
