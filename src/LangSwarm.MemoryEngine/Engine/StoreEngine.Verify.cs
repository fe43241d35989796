namespace LangSwarm.MemoryEngine.Engine;

internal sealed partial class StoreEngine
{
    /// <summary>
    /// Rebuilds an index from nothing but the segment files and compares it with the live index: the check
    /// behind <c>lsmem verify</c> and the crash properties' "index agrees with a full scan".
    /// </summary>
    public async Task<VerifyReport> VerifyAsync(CancellationToken cancellationToken)
    {
        // No vacuum pass in progress (its superseded segments stay on disk until its end, and a scan of every
        // file would take them for the session's), then the checkpoint lock (the order vacuums and checkpoints
        // take them in): the index file is then one committed tree.
        await _vacuumLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _checkpointLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await VerifyLockedAsync(cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _checkpointLock.Release();
            }
        }
        finally
        {
            _vacuumLock.Release();
        }
    }

    private async Task<VerifyReport> VerifyLockedAsync(CancellationToken cancellationToken)
    {
        await _gate.EnterExclusiveAsync().ConfigureAwait(false);
        try
        {
            return StoreVerifier.Verify(_fs, _segments, Index, _indexFile, cancellationToken);
        }
        finally
        {
            _gate.ExitExclusive();
        }
    }
}
