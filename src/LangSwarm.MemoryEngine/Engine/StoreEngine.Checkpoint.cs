using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Storage;

namespace LangSwarm.MemoryEngine.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// Checkpoint: (1) under the exclusive gate, rotate the log at LSN B and capture the index — every record
    /// below B is then in a segment and in the capture; (2) fsync the segments written since the last
    /// checkpoint and their directory; (3) write the checkpoint atomically; (4) delete the logs below B.
    /// A crash between any two steps leaves a state recovery repairs.
    /// </summary>
    public async Task CheckpointAsync()
    {
        await _checkpointLock.WaitAsync().ConfigureAwait(false);
        try
        {
            await CheckpointCoreAsync().ConfigureAwait(false);
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    /// <summary>The checkpoint itself; the caller holds the checkpoint lock.</summary>
    private async Task CheckpointCoreAsync()
    {
        {
            ThrowIfFailed();
            ulong covered;
            string? oldLog;
            List<CheckpointFile.SessionImage> images;
            await _gate.EnterExclusiveAsync().ConfigureAwait(false);
            try
            {
                covered = (ulong)Interlocked.Read(ref _nextLsn);
                oldLog = _log.Rotate(covered);
                images = CaptureAll();
            }
            finally
            {
                _gate.ExitExclusive();
            }
            try
            {
                _segments.SyncDirty();
                WriteCheckpoint(covered, images);
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
        }
    }

    private static Exception Recovery_StorageErrors(IOException ex) => LangSwarm.MemoryEngine.Recovery.StorageErrors.Wrap(ex, "Checkpoint failed");

    private List<CheckpointFile.SessionImage> CaptureAll()
    {
        var all = Index.All();
        var images = new List<CheckpointFile.SessionImage>(all.Count);
        foreach (var e in all)
        {
            images.Add(CheckpointFile.Capture(e));
        }
        images.Sort((a, b) => a.Number.CompareTo(b.Number));
        return images;
    }

    private void WriteCheckpoint(ulong covered, List<CheckpointFile.SessionImage> images) =>
        CheckpointFile.Write(_fs, new CheckpointFile.Snapshot(covered, covered, (ulong)Interlocked.Read(ref _nextSession), images));

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
