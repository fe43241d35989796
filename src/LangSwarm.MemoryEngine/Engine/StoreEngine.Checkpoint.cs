using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Storage;

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
            _indexFile.Save(delta, covered, covered, (ulong)Interlocked.Read(ref _nextSession));
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
    }

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
