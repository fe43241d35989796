using Microsoft.Extensions.Logging;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Runs <see cref="SegmentSweep"/> in the background after an open that read only the sessions its logs name,
/// so that an open's time follows the work since the checkpoint and not the number of sessions. The listing
/// runs beside writes; the fixes (usually none) run with no vacuum pass, no checkpoint and no write in flight,
/// briefly. Until it has finished, a close writes no <c>CLEAN</c> (the next open sweeps again) and verify waits
/// for it.
/// </summary>
internal sealed class LeftoverSweeper(EngineCore core, Compactor compactor)
{
    private readonly CancellationTokenSource _stop = new();
    private Task _task = Task.CompletedTask;
    private bool _pending;
    private ulong _recoveredNextSession;

    /// <summary>True while a sweep is owed: started and not yet finished, or stopped before it finished.</summary>
    public bool Pending => Volatile.Read(ref _pending);

    /// <summary>Completes when the sweep has run (at once when none was started).</summary>
    public Task Completion => _task;

    /// <summary>Starts the sweep in the background; <paramref name="recoveredNextSession"/> is the next session number recovery found.</summary>
    public void Start(ulong recoveredNextSession)
    {
        _recoveredNextSession = recoveredNextSession;
        Volatile.Write(ref _pending, true);
        compactor.HoldIdle(); // before the open returns: no vacuum pass, explicit or automatic, comes first
        _task = Task.Run(async () =>
        {
            try
            {
                await RunAsync().ConfigureAwait(false);
            }
            finally
            {
                compactor.ReleaseIdle();
            }
        });
    }

    /// <summary>Waits for the sweep (verify compares the index with every file, so it must see them swept).</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _task.WaitAsync(cancellationToken);

    /// <summary>Stops the sweep between two fixes and waits for it.</summary>
    public void Stop()
    {
        _stop.Cancel();
        try
        {
            _task.Wait();
        }
        catch (AggregateException)
        {
            // Logged where it failed; the sweep stays owed.
        }
    }

    private async Task RunAsync()
    {
        var token = _stop.Token;
        var sweep = new SegmentSweep(core.Fs, core.Segments, core.Index, _recoveredNextSession);
        try
        {
            // The listing must show what the index knows: the appends an unclean open owes are written first.
            core.Segments.Deferred.SettleAll();
            var packs = sweep.SweepPacks(core.Packs);
            if (packs > 0)
            {
                MemoryLog.LeftoversSwept(core.Logger, packs, 0);
            }
            var findings = sweep.Find(token);
            if (findings.Count > 0)
            {
                await FixAsync(sweep, findings, token).ConfigureAwait(false);
            }
            foreach (var f in sweep.Foreign)
            {
                MemoryLog.ForeignFile(core.Logger, f);
            }
            Volatile.Write(ref _pending, false);
        }
        catch (OperationCanceledException)
        {
            // Closing: the sweep stays owed, and the close leaves no CLEAN so that the next open runs it.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not a failure of any write: the files stay as they are, and the next open sweeps again.
            MemoryLog.SweepFailed(core.Logger, ex);
        }
    }

    // Each finding is checked again and fixed with no checkpoint and no write in flight: a file's length and
    // the index then say the same thing, and no session is between the log and its segment.
    private async Task FixAsync(SegmentSweep sweep, List<SegmentSweep.Finding> findings, CancellationToken token)
    {
        await core.CheckpointLock.WaitAsync(token).ConfigureAwait(false);
        try
        {
            await core.Gate.EnterExclusiveAsync().ConfigureAwait(false);
            try
            {
                var damage = new List<StoreDamage>();
                long bytes = 0;
                var fixedFiles = 0;
                foreach (var f in findings)
                {
                    token.ThrowIfCancellationRequested();
                    var before = damage.Count;
                    var cut = sweep.Fix(f, damage);
                    bytes += cut;
                    fixedFiles += cut > 0 || damage.Count > before ? 1 : 0;
                }
                foreach (var d in damage)
                {
                    core.Damage.Report(d);
                }
                if (fixedFiles > 0)
                {
                    MemoryLog.LeftoversSwept(core.Logger, fixedFiles, bytes);
                }
            }
            finally
            {
                core.Gate.ExitExclusive();
            }
        }
        finally
        {
            core.CheckpointLock.Release();
        }
    }
}
