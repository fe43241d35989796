namespace LangSwarm.MemoryEngine.Compaction;

/// <summary>
/// When the background vacuum looks for work. Without an idle time: at every wake, one per interval (the
/// original behaviour). With one: once per quiet spell, as soon as no write has happened for the idle time, and
/// besides at least once per interval, so that a store that is never quiet still gets compacted.
/// </summary>
/// <remarks>
/// Writes are noticed by a counter the write path bumps anyway (the next LSN), compared between wakes: nothing
/// is added to the write path, at the cost of noticing a quiet spell up to one poll late. Pure state over the
/// values it is given, so tests can drive it with any times.
/// </remarks>
internal sealed class AutoVacuumSchedule
{
    private readonly TimeSpan _interval;
    private readonly TimeSpan? _idle;
    private long _writes;
    private TimeSpan _quietSince;
    private TimeSpan _lastPass;
    private bool _ranThisSpell;

    /// <summary>Starts the schedule at <paramref name="now"/>, with the write counter as it is then.</summary>
    /// <param name="interval">Longest time between passes; <see cref="Timeout.InfiniteTimeSpan"/>: none (idle only).</param>
    /// <param name="idleFor">Quiet time that triggers a pass; null: the interval alone.</param>
    /// <param name="writes">The write counter now.</param>
    /// <param name="now">The time now, on any monotonic clock.</param>
    public AutoVacuumSchedule(TimeSpan interval, TimeSpan? idleFor, long writes, TimeSpan now)
    {
        _interval = interval;
        _idle = idleFor;
        _writes = writes;
        _quietSince = now;
        _lastPass = now;
        // Polling at a quarter of the idle time notices a quiet spell at most a quarter late.
        Poll = idleFor is { } idle
            ? TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond, idle.Ticks / 4))
            : interval;
        if (interval != Timeout.InfiniteTimeSpan && interval < Poll)
        {
            Poll = interval;
        }
    }

    /// <summary>How long to sleep between two calls of <see cref="IsDue"/>.</summary>
    public TimeSpan Poll { get; }

    /// <summary>
    /// Takes the write counter and the time at a wake; true when the caller should look for work now (it is then
    /// counted as a pass).
    /// </summary>
    public bool IsDue(long writes, TimeSpan now)
    {
        if (_idle is not { } idle)
        {
            return true;
        }
        if (writes != _writes)
        {
            _writes = writes;
            _quietSince = now; // the write happened since the last wake: count the spell from now
            _ranThisSpell = false;
        }
        var quiet = !_ranThisSpell && now - _quietSince >= idle;
        var overdue = _interval != Timeout.InfiniteTimeSpan && now - _lastPass >= _interval;
        if (!quiet && !overdue)
        {
            return false;
        }
        _lastPass = now;
        _ranThisSpell |= quiet;
        return true;
    }
}
