using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory;

/// <summary>The retention policy: deleting expired sessions in the background, once for every backend.</summary>
public abstract partial class MemoryBackendBase
{
    private RetentionPolicy? _retention;
    private CancellationTokenSource? _retentionStop;
    private Task? _retentionLoop;

    /// <summary>
    /// What the backend deletes by itself (null: nothing). Read at <see cref="ConnectAsync"/>: a pass runs then and
    /// every <see cref="RetentionPolicy.Interval"/> until <see cref="DisconnectAsync"/>, which stops it between two
    /// sessions and waits for it. A failed pass is reported by the health check and retried at the next interval.
    /// </summary>
    public RetentionPolicy? Retention
    {
        get => _retention;
        set
        {
            value?.Validate();
            _retention = value;
        }
    }

    /// <summary>When the last retention pass ended and how many sessions it deleted (null: none yet).</summary>
    public RetentionReport? LastRetention { get; private set; }

    /// <summary>
    /// Runs one retention pass of <see cref="Retention"/> now, as the background does; returns the sessions
    /// deleted (0 when there is no policy). Each delete takes the session's lock and re-checks its age and status
    /// first, so a session written to meanwhile is kept.
    /// </summary>
    public Task<int> RunRetentionAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return _retention is { IsEnabled: true } policy ? RetainAsync(policy, cancellationToken) : Task.FromResult(0);
    }

    /// <inheritdoc />
    public async Task<int> CleanupExpiredSessionsAsync(int maxAgeDays = 30, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxAgeDays);
        EnsureConnected();
        // An age past what the calendar holds means "nothing that old": no cutoff, nothing to find.
        if (CutoffBefore(Clock.GetUtcNow(), AgeFromDays(maxAgeDays)) is not { } cutoff)
        {
            return 0;
        }
        var ids = await Store.FindSessionsUpdatedBeforeAsync(cutoff, null, cancellationToken).ConfigureAwait(false);
        return await DeleteWhereAsync(ids, m => m.UpdatedAt < cutoff, cancellationToken).ConfigureAwait(false);
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
            if (await DeleteWhereAsync(id, expired, cancellationToken).ConfigureAwait(false))
            {
                removed++;
            }
        }
        return removed;
    }

    /// <summary>
    /// A whole number of days as an age; beyond what <see cref="TimeSpan"/> holds (about 10.7 million days) it is
    /// <see cref="TimeSpan.MaxValue"/>, which <see cref="CutoffBefore"/> reads as "nothing that old".
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="days"/> is negative.</exception>
    internal static TimeSpan AgeFromDays(long days)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        return days >= (long)TimeSpan.MaxValue.TotalDays ? TimeSpan.MaxValue : TimeSpan.FromDays(days);
    }

    /// <summary>
    /// The activity time before which a session is older than <paramref name="age"/> at <paramref name="now"/>;
    /// null when that is before the earliest time a <see cref="DateTimeOffset"/> holds (no session is that old).
    /// </summary>
    internal static DateTimeOffset? CutoffBefore(DateTimeOffset now, TimeSpan age) =>
        age >= now - DateTimeOffset.MinValue ? null : now - age;

    /// <summary>A retention pass, measured, traced and logged (<see cref="MemoryEventIds.RetentionPass"/>).</summary>
    private async Task<int> RetainAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        using var span = MemoryTelemetry.Source.StartActivity(MemoryTelemetry.Spans.Retention);
        span?.SetTag(MemoryTelemetry.BackendTag, Name);
        int removed;
        try
        {
            removed = await RetainUnmeasuredAsync(policy, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            MemoryTelemetry.Fail(span, ex);
            throw;
        }
        var elapsed = Stopwatch.GetElapsedTime(started);
        var tag = MemoryTelemetry.Backend(Name);
        MemoryTelemetry.RetentionDurationHistogram.Record(elapsed.TotalSeconds, tag);
        MemoryTelemetry.RetentionDeletedCounter.Add(removed, tag);
        span?.SetTag("langswarm.memory.sessions.deleted", removed);
        MemoryLog.RetentionPass(Logger, removed > 0 ? LogLevel.Information : LogLevel.Debug, Name, removed, elapsed.TotalMilliseconds);
        return removed;
    }

    private async Task<int> RetainUnmeasuredAsync(RetentionPolicy policy, CancellationToken cancellationToken)
    {
        var now = Clock.GetUtcNow();
        var removed = 0;
        if (policy.MaxAge is { } maxAge && CutoffBefore(now, maxAge) is { } cutoff)
        {
            var ids = await Store.FindSessionsUpdatedBeforeAsync(cutoff, null, cancellationToken).ConfigureAwait(false);
            removed += await DeleteWhereAsync(ids, m => m.UpdatedAt < cutoff, cancellationToken).ConfigureAwait(false);
        }
        // An archive age at or past MaxAge has nothing left to find: the pass above took every such session.
        if (policy.ArchivedMaxAge is { } archivedAge && (policy.MaxAge is null || archivedAge < policy.MaxAge)
            && CutoffBefore(now, archivedAge) is { } archivedCutoff)
        {
            var ids = await Store.FindSessionsUpdatedBeforeAsync(archivedCutoff, SessionStatus.Archived, cancellationToken).ConfigureAwait(false);
            removed += await DeleteWhereAsync(ids, m => m.Status == SessionStatus.Archived && m.UpdatedAt < archivedCutoff, cancellationToken).ConfigureAwait(false);
        }
        LastRetention = new RetentionReport(Clock.GetUtcNow(), removed);
        return removed;
    }

    /// <summary>Starts the background pass when a policy is set (called by connect, under its lock).</summary>
    private void StartRetention()
    {
        if (_retention is not { IsEnabled: true } policy)
        {
            return;
        }
        var stop = new CancellationTokenSource();
        _retentionStop = stop;
        _retentionLoop = Task.Run(() => RetentionLoopAsync(policy, stop.Token), CancellationToken.None);
    }

    private async Task RetentionLoopAsync(RetentionPolicy policy, CancellationToken token)
    {
        while (!token.IsCancellationRequested)
        {
            try
            {
                await RetainAsync(policy, token).ConfigureAwait(false);
                await Task.Delay(policy.Interval, Clock, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return; // disconnecting
            }
            catch (Exception ex)
            {
                // Nobody awaits this loop but disconnect: keep the error for the health check, try again later.
                RecordError($"Retention pass failed: {ex.Message}");
                MemoryLog.RetentionFailed(Logger, Name, ex);
                try
                {
                    await Task.Delay(policy.Interval, Clock, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Stops the background pass (between two sessions) and waits for it (called by disconnect, under its lock).</summary>
    private async Task StopRetentionAsync()
    {
        var stop = _retentionStop;
        var loop = _retentionLoop;
        _retentionStop = null;
        _retentionLoop = null;
        if (stop is null || loop is null)
        {
            return;
        }
        await stop.CancelAsync().ConfigureAwait(false);
        await loop.ConfigureAwait(false); // never faults: the loop catches everything
        stop.Dispose();
    }
}

/// <summary>The outcome of a retention pass.</summary>
/// <param name="At">When it ended (by the backend's clock).</param>
/// <param name="SessionsDeleted">Sessions it deleted.</param>
public sealed record RetentionReport(DateTimeOffset At, int SessionsDeleted);
