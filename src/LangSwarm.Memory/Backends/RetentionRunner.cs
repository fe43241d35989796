using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory;

/// <summary>
/// The retention policy's work for one backend: finding sessions past an age, deleting those still past it
/// under their lock, and the background pass between connect and disconnect. Owns the loop and the last report;
/// the backend owns the policy and the per-session delete.
/// </summary>
internal sealed class RetentionRunner(MemoryBackendBase backend)
{
    private CancellationTokenSource? _stop;
    private Task? _loop;

    /// <summary>When the last retention pass ended and how many sessions it deleted (null: none yet).</summary>
    public RetentionReport? Last { get; private set; }

    /// <summary>
    /// A whole number of days as an age; beyond what <see cref="TimeSpan"/> holds (about 10.7 million days) it is
    /// <see cref="TimeSpan.MaxValue"/>, which <see cref="CutoffBefore"/> reads as "nothing that old".
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="days"/> is negative.</exception>
    public static TimeSpan AgeFromDays(long days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        return days >= (long)TimeSpan.MaxValue.TotalDays ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
    }

    /// <summary>
    /// The activity time before which a session is older than <paramref name="age"/> at <paramref name="now"/>;
    /// null when that is before the earliest time a <see cref="DateTimeOffset"/> holds (no session is that old).
    /// </summary>
    public static DateTimeOffset? CutoffBefore(DateTimeOffset now, TimeSpan age) =>
        age >= now - DateTimeOffset.MinValue ? null : now - age;

    /// <summary>Deletes the sessions not updated for <paramref name="age"/>, whatever their status; returns how many went.</summary>
    public async Task<int> DeleteOlderThanAsync(TimeSpan age, CancellationToken cancellationToken)
    {
        // An age past what the calendar holds means "nothing that old": no cutoff, nothing to find.
        if (CutoffBefore(backend.Clock.GetUtcNow(), age) is not { } cutoff)
        {
            return 0;
        }
        var ids = await backend.Store.FindSessionsUpdatedBeforeAsync(cutoff, null, cancellationToken).ConfigureAwait(false);
        return await DeleteWhereAsync(ids, m => m.UpdatedAt < cutoff, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A retention pass of <paramref name="policy"/>, measured, traced and logged (<see cref="MemoryEventIds.RetentionPass"/>).</summary>
    public async Task<int> PassAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = MemoryTelemetry.Source.StartActivity(MemoryTelemetry.Spans.Retention);
        span?.SetTag(MemoryTelemetry.BackendTag, backend.Name);
        int removed;
        try
        {
            removed = await PassUnmeasuredAsync(policy, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MemoryTelemetry.Fail(span, ex);
            throw;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        var tag = MemoryTelemetry.Backend(backend.Name);
        MemoryTelemetry.RetentionDurationHistogram.Record(elapsed.TotalSeconds, tag);
        MemoryTelemetry.RetentionDeletedCounter.Add(removed, tag);
        span?.SetTag("langswarm.memory.sessions.deleted", removed);
        MemoryLog.RetentionPass(backend.Logger, removed > 0 ? LogLevel.Information : LogLevel.Debug, backend.Name, removed, elapsed.TotalMilliseconds);
        return removed;
    }

    /// <summary>Starts the background pass when <paramref name="policy"/> is enabled (called by connect, under its lock).</summary>
    public void Start(RetentionPolicy? policy)
    {
        if (policy is not { IsEnabled: true } enabled)
        {
            return;
        }
        var stop = new CancellationTokenSource();
        _stop = stop;
        _loop = Task.Run(() => LoopAsync(enabled, stop.Token), CancellationToken.None);
    }

    /// <summary>Stops the background pass (between two sessions) and waits for it (called by disconnect, under its lock).</summary>
    public async Task StopAsync()
    {
        var stop = _stop;
        var loop = _loop;
        _stop = null;
        _loop = null;
        if (stop is null || loop is null)
        {
            return;
        }
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false); // never faults: the loop catches everything
        stop.Dispose();
    }

    private async Task<int> PassUnmeasuredAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var now = backend.Clock.GetUtcNow();
        var removed = 0;
        if (policy.MaxAge is { } maxAge && CutoffBefore(now, maxAge) is { } cutoff)
        {
            var ids = await backend.Store.FindSessionsUpdatedBeforeAsync(cutoff, null, cancellationToken).ConfigureAwait(false);
            removed += await DeleteWhereAsync(ids, m => m.UpdatedAt < cutoff, cancellationToken).ConfigureAwait(false);
        }
        // An archive age at or past MaxAge has nothing left to find: the pass above took every such session.
        if (policy.ArchivedMaxAge is { } archivedAge && (policy.MaxAge is null || archivedAge < policy.MaxAge)
            && CutoffBefore(now, archivedAge) is { } archivedCutoff)
        {
            var ids = await backend.Store.FindSessionsUpdatedBeforeAsync(archivedCutoff, SessionStatus.Archived, cancellationToken).ConfigureAwait(false);
            removed += await DeleteWhereAsync(ids, m => m.Status == SessionStatus.Archived && m.UpdatedAt < archivedCutoff, cancellationToken).ConfigureAwait(false);
        }
        Last = new RetentionReport(backend.Clock.GetUtcNow(), removed);
        return removed;
    }

    /// <summary>
    /// Deletes those of <paramref name="ids"/> whose state, loaded again under the session's lock, still passes
    /// <paramref name="expired"/>: a session touched since it was found is kept. Returns how many went.
    /// </summary>
    private async Task<int> DeleteWhereAsync(IReadOnlyList<string> ids, Func<SessionMetadata, bool> expired, CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var id in ids)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (await backend.RemoveIfAsync(id, expired, cancellationToken).ConfigureAwait(false))
            {
                removed++;
            }
        }
        return removed;
    }

    private async Task LoopAsync(RetentionPolicy policy, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await PassAsync(policy, token).ConfigureAwait(false);
                await Task.Delay(policy.Interval, backend.Clock, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return; // disconnecting
            }
            catch (Exception ex)
            {
                // Nobody awaits this loop but disconnect: keep the error for the health check, try again later.
                backend.RecordError($"Retention pass failed: {ex.Message}");
                MemoryLog.RetentionFailed(backend.Logger, backend.Name, ex);
                try
                {
                    await Task.Delay(policy.Interval, backend.Clock, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>The outcome of a retention pass.</summary>
/// <param name="At">When it ended (by the backend's clock).</param>
/// <param name="SessionsDeleted">Sessions it deleted.</param>
public sealed record RetentionReport(DateTimeOffset At, int SessionsDeleted);
