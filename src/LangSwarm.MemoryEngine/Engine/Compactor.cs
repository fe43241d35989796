using Microsoft.Extensions.Logging;
using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Compaction;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Vacuum: passes that rewrite the sessions the compaction policy picks (<see cref="SessionRewriter"/>) and commit
/// them with a checkpoint, on demand and in the background (<see cref="AutoVacuumSchedule"/>). Owns the vacuum
/// lock (one pass at a time; first in the lock order of <see cref="EngineCore"/>) and the background task.
/// </summary>
internal sealed class Compactor(EngineCore core, Checkpointer checkpointer)
{
    // A pass that packs or rewrites many sessions rewrites their message entries, and the copy-on-write tree then
    // holds their old pages free: a quarter of the file is worth a repack at the end of the pass.
    private const double IndexCompactFreeFraction = 0.25;

    // Segment files below which the background vacuum does not look for sessions to pack.
    private const int PackLookAbove = 256;

    // The longest pause between two sessions that VacuumPause is taken to mean.
    private const int MaxVacuumPauseMs = 10_000;

    private readonly EngineCore _core = core;
    private readonly Checkpointer _checkpointer = checkpointer;
    private readonly SessionRewriter _rewriter = new(core.Files, core.Index, core.Options.SegmentMaxBytes);
    private readonly CancellationTokenSource _stopBackground = new();
    private readonly SemaphoreSlim _vacuumLock = new(1, 1);
    private Task? _autoVacuum;

    /// <summary>Runs <paramref name="work"/> while no vacuum pass is in progress (none starts meanwhile).</summary>
    public async Task<T> WhileIdleAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken)
    {
        await _vacuumLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await work().ConfigureAwait(false);
        }
        finally
        {
            _vacuumLock.Release();
        }
    }

    /// <summary>
    /// Takes the vacuum lock for work that must come before any vacuum pass (the sweep after an unclean open:
    /// a pass could otherwise write its new set over the files of one a crash cut short); <see cref="ReleaseIdle"/> ends it.
    /// </summary>
    public void HoldIdle() => _vacuumLock.Wait();

    /// <summary>Ends <see cref="HoldIdle"/>.</summary>
    public void ReleaseIdle() => _vacuumLock.Release();

    /// <summary>Stops the background vacuum without waiting for it (a crash test's abandoned store).</summary>
    public void Abandon() => _stopBackground.Cancel();

    /// <summary>When the last vacuum ended and what it did.</summary>
    public (DateTimeOffset At, VacuumReport Report)? LastVacuum { get; private set; }

    /// <summary>
    /// Rewrites the sessions the policy picks into new segments holding only their live records, then makes
    /// the switch durable with a checkpoint and deletes the old segments. Protocol (FORMAT.md §10):
    /// new files are written and fsynced first; the checkpoint that names them is the commit point; old files
    /// go only after it. A crash before the checkpoint leaves the old segments in charge (the new ones are
    /// orphans recovery deletes); after it, the new ones (the old ones are superseded and deleted).
    /// </summary>
    /// <param name="minDeadFraction">Sessions with at least this fraction of dead bytes are rewritten.</param>
    /// <param name="cancellationToken">Stops the pass between sessions (what it compacted is still committed).</param>
    /// <param name="rewriteAll">
    /// Rewrite every session and the whole index file (a rekey): everything comes out sealed with the store's
    /// current key (or plain, for a store without one).
    /// </param>
    public async Task<VacuumReport> VacuumAsync(double minDeadFraction, CancellationToken cancellationToken, bool rewriteAll = false)
    {
        var sw = Stopwatch.StartNew();
        var before = _core.DiskBytes();
        int rewritten = 0, skipped = 0, packed = 0;
        long indexReclaimed = 0;
        var superseded = new List<(ulong Session, uint Segment)>();
        // One vacuum at a time, and verify waits for a whole pass (superseded segments are on disk until its end).
        // The checkpoint lock is held per rewritten session and for the commit, not across the pauses: a pass
        // over many sessions would otherwise keep every checkpoint out for its whole length (the log only grows).
        await _vacuumLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _core.ThrowIfFailed();
            // Outlines choose without loading every session: only the ones to compact come into memory.
            var packing = PackRuleNow();
            using var packer = new SessionPacker(_core.Files, _core.Index, _core.Options.SegmentMaxBytes);
            foreach (var outline in _core.Index.Outlines())
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break; // stop between sessions, but still commit what was compacted (below)
                }
                if ((!rewriteAll && CompactionPolicy.Choose(outline, minDeadFraction, packing) == CompactionChoice.None) || !_core.Index.TryGet(outline.Number, out var entry))
                {
                    continue;
                }
                var choice = CompactionPolicy.Choose(entry, minDeadFraction, packing);
                if (rewriteAll && choice == CompactionChoice.None)
                {
                    choice = CompactionChoice.Rewrite;
                }
                if (choice == CompactionChoice.Pack)
                {
                    if (packer.WouldOverflow(outline.Bytes + 4096))
                    {
                        (packed, skipped) = await FinishPackAsync(packer, superseded, packed, skipped).ConfigureAwait(false);
                        if (!await PauseAsync(cancellationToken).ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                    await _core.CheckpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                    try
                    {
                        _core.ThrowIfFailed();
                        packer.Add(entry);
                    }
                    finally
                    {
                        _core.CheckpointLock.Release();
                    }
                    continue;
                }
                if (choice != CompactionChoice.Rewrite)
                {
                    continue;
                }
                await _core.CheckpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    _core.ThrowIfFailed();
                    if (_rewriter.Rewrite(entry, superseded))
                    {
                        rewritten++;
                    }
                    else
                    {
                        skipped++;
                    }
                }
                finally
                {
                    _core.CheckpointLock.Release();
                }
                if (!await PauseAsync(cancellationToken).ConfigureAwait(false))
                {
                    break; // closing: commit what was compacted (below)
                }
            }
            (packed, skipped) = await FinishPackAsync(packer, superseded, packed, skipped).ConfigureAwait(false);
            await _core.CheckpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (rewriteAll && skipped == 0 && !cancellationToken.IsCancellationRequested && _core.Cipher is { } cipher)
                {
                    // Every session was rewritten sealed: no plain record is left, so none is genuine any more (the
                    // checkpoint below, and the index compaction, write it to the meta pages).
                    cipher.SealedSince = 0;
                }
                if (rewritten + packed > 0)
                {
                    // The commit point of every switch of the pass; it also erases the pack groups they left.
                    await _checkpointer.CheckpointCoreAsync().ConfigureAwait(false);
                    DeleteSuperseded(superseded);
                }
                // The index file reuses freed pages, but deletes and relocations can leave many; repack it when a
                // quarter of it (and at least IndexCompactMinFreeBytes) is free (its own rename switch, FORMAT.md §10 step 5).
                try
                {
                    indexReclaimed = rewriteAll ? _core.IndexFile.Compact() : _core.IndexFile.CompactIfWorthIt(IndexCompactFreeFraction, _core.Options.IndexCompactMinFreeBytes);
                }
                catch (InvalidDataException ex)
                {
                    await _checkpointer.RebuildIndexFileExclusiveAsync(ex, _core.IndexFile.CoveredLsn).ConfigureAwait(false);
                }
            }
            finally
            {
                _core.CheckpointLock.Release();
            }
        }
        catch (IOException ex)
        {
            _core.Fail(ex);
            throw StorageErrors.Wrap(ex, "Vacuum failed");
        }
        finally
        {
            _vacuumLock.Release();
        }
        var report = new VacuumReport(rewritten, skipped, before, _core.DiskBytes(), sw.Elapsed) { IndexBytesReclaimed = indexReclaimed, SessionsPacked = packed };
        LastVacuum = (DateTimeOffset.UtcNow, report);
        MemoryTelemetry.EngineVacuumHistogram.Record(report.Elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
        MemoryTelemetry.EngineVacuumReclaimedCounter.Add(Math.Max(0, report.BytesBefore - report.BytesAfter), MemoryTelemetry.EngineTag);
        MemoryLog.VacuumCompleted(_core.Logger, rewritten > 0 ? LogLevel.Information : LogLevel.Debug, rewritten, Math.Max(0, report.BytesBefore - report.BytesAfter), report.Elapsed.TotalMilliseconds);
        return report;
    }

    /// <summary>Which sessions this pass packs (<see cref="EngineOptions.PackSessionsBelowBytes"/>).</summary>
    private PackRule PackRuleNow()
    {
        var options = _core.Options;
        if (options.PackSessionsBelowBytes <= 0)
        {
            return PackRule.Never;
        }
        var idleBefore = DateTimeOffset.UtcNow - options.PackSessionsIdleFor;
        return new PackRule(options.PackSessionsBelowBytes, idleBefore.UtcTicks, CompactionPolicy.SparsePacks(_core.Index.Packs));
    }

    /// <summary>
    /// Finishes the pack being written, switches its sessions and commits them with a checkpoint (then deletes
    /// the files they left), under the checkpoint lock: a pass over many sessions commits a pack at a time, so
    /// no checkpoint carries more than one pack's sessions and their files go as the pass goes.
    /// </summary>
    private async Task<(int Packed, int Skipped)> FinishPackAsync(SessionPacker packer, List<(ulong Session, uint Segment)> superseded, int packed, int skipped)
    {
        if (packer.Count == 0)
        {
            return (packed, skipped);
        }
        var count = packer.Count;
        await _core.CheckpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _core.ThrowIfFailed();
            var switched = packer.Finish(superseded);
            if (switched > 0)
            {
                await _checkpointer.CheckpointCoreAsync().ConfigureAwait(false);
                DeleteSuperseded(superseded);
            }
            return (packed + switched, skipped + count - switched);
        }
        finally
        {
            _core.CheckpointLock.Release();
        }
    }

    /// <summary>After the checkpoint that committed their sessions' switch: the files they left (FORMAT.md §10 step 4).</summary>
    private void DeleteSuperseded(List<(ulong Session, uint Segment)> superseded)
    {
        foreach (var (s, g) in superseded)
        {
            _core.Segments.Delete(s, g);
        }
        _core.Segments.SyncDirectory();
        superseded.Clear();
    }

    /// <summary>
    /// Throttle between two compactions: each briefly costs foreground writes about one slow add (CPU and disk
    /// shared on a small machine); pausing spreads those over many more adds. False when the vacuum is stopping.
    /// </summary>
    private async Task<bool> PauseAsync(CancellationToken cancellationToken)
    {
        var pause = _core.Options.VacuumPause <= TimeSpan.Zero ? 0 : (int)Math.Min(_core.Options.VacuumPause.TotalMilliseconds, MaxVacuumPauseMs);
        if (pause == 0)
        {
            return true;
        }
        try
        {
            await Task.Delay(Math.Max(pause, _rewriter.LastFlushMs), cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Starts the background vacuum when the options ask for one.</summary>
    public void StartAutoVacuum()
    {
        if (_core.Options.AutoVacuumDeadFraction is not { } fraction)
        {
            return;
        }
        if (_core.Options.AutoVacuumInterval == Timeout.InfiniteTimeSpan && _core.Options.AutoVacuumWhenIdleFor is null)
        {
            return; // no trigger at all
        }
        _autoVacuum = Task.Run(async () =>
        {
            var token = _stopBackground.Token;
            var origin = Stopwatch.GetTimestamp();
            var schedule = new AutoVacuumSchedule(_core.Options.AutoVacuumInterval, _core.Options.AutoVacuumWhenIdleFor, (long)_core.NextLsn, TimeSpan.Zero);
            try
            {
                while (!token.IsCancellationRequested)
                {
                    await Task.Delay(schedule.Poll, token).ConfigureAwait(false);
                    // Every write reserves LSNs: an unchanged next LSN means no write since the last wake.
                    if (!schedule.IsDue((long)_core.NextLsn, Stopwatch.GetElapsedTime(origin)))
                    {
                        continue;
                    }
                    // The totals rule out most wakes without a pass over the sessions.
                    var totals = _core.Index.Totals();
                    // Packing is looked for only once there are files enough to be worth it.
                    var packing = totals.Segments >= PackLookAbove ? PackRuleNow() : PackRule.Never;
                    if ((totals.DeadBytes > 0 || totals.Archived > totals.Cold || packing.BelowBytes > 0)
                        && _core.Index.Outlines().Exists(o => CompactionPolicy.Choose(o, fraction, packing) != CompactionChoice.None))
                    {
                        await VacuumAsync(fraction, token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Closing.
            }
            catch (MemoryException)
            {
                // A storage failure stopped the store; Failure and the health check report it.
            }
        });
    }

    /// <summary>Stops the background vacuum (between sessions) and waits for it.</summary>
    public void Stop()
    {
        _stopBackground.Cancel();
        try
        {
            _autoVacuum?.Wait();
        }
        catch (AggregateException)
        {
            // Its failure, if any, is already in Failure.
        }
    }
}
