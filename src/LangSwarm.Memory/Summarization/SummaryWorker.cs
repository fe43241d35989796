namespace LangSwarm.Memory;

/// <summary>
/// Makes a backend's automatic summaries off the write path. An add that leaves its session due
/// (<see cref="SummaryChain.Due"/>) queues the session here and returns; the worker extends the session's summary
/// chain (the summarizer called with no lock held), then evicts the chunk the chain now covers. At most
/// <see cref="BackgroundSummaryOptions.MaxConcurrency"/> sessions are summarized at once, one job per session.
/// A failure is retried with backoff and reported (<see cref="Problem"/>); it never reaches an add.
/// </summary>
internal sealed class SummaryWorker
{
    private readonly MemoryBackendBase _backend;
    private readonly Dictionary<string, Job> _jobs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _failing = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private CancellationTokenSource _stop = new();
    private SemaphoreSlim _slots = new(2, 2);
    private int _outstanding;
    private TaskCompletionSource _idle = Done();

    public SummaryWorker(MemoryBackendBase backend)
    {
        _backend = backend;
    }

    /// <summary>Null while summaries succeed; else what fails, for the health report.</summary>
    public string? Problem
    {
        get
        {
            lock (_lock)
            {
                if (_failing.Count == 0)
                {
                    return null;
                }
                string? last = null;
                foreach (var e in _failing.Values)
                {
                    last = e;
                }
                return $"background summaries failing for {_failing.Count} session(s), retrying: {last}";
            }
        }
    }

    /// <summary>Accepts work (connect).</summary>
    public void Start()
    {
        lock (_lock)
        {
            _stop = new CancellationTokenSource();
            var n = _backend.BackgroundSummaries.MaxConcurrency;
            _slots = new SemaphoreSlim(n, n);
            _failing.Clear();
        }
    }

    /// <summary>Cancels running work and waits for it to end (disconnect). Unfinished work stays owed in the store.</summary>
    public async Task StopAsync()
    {
        Task idle;
        lock (_lock)
        {
            _stop.Cancel();
            idle = _idle.Task;
        }
        await idle.ConfigureAwait(false);
    }

    /// <summary>Completes when no session is being summarized or waiting to be (a session waiting to retry counts as waiting).</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return _idle.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Queues a session (no-op when it is queued; a running job then looks again when it ends).</summary>
    public void Enqueue(SessionLink link)
    {
        Job job;
        lock (_lock)
        {
            if (_stop.IsCancellationRequested)
            {
                return;
            }
            if (_jobs.TryGetValue(link.SessionId, out var running) && ReferenceEquals(running.Link, link))
            {
                running.Again = true;
                return;
            }
            job = new Job(link);
            _jobs[link.SessionId] = job;
            if (_outstanding++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        _ = Task.Run(() => RunAsync(job));
    }

    /// <summary>
    /// Runs a piece of background work (the scan after connect) on the thread pool, counted toward idleness from
    /// this call on: the caller never runs any of it, and <see cref="WhenIdleAsync"/> waits for it.
    /// </summary>
    public void Track(Func<CancellationToken, Task> work)
    {
        CancellationToken stop;
        lock (_lock)
        {
            stop = _stop.Token;
            if (_outstanding++ == 0)
            {
                _idle = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }
        _ = Task.Run(async () =>
        {
            try
            {
                await work(stop).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (!stop.IsCancellationRequested)
                {
                    _backend.RecordError($"background summary scan failed: {ex.Message}");
                }
            }
            finally
            {
                End();
            }
        });
    }

    private async Task RunAsync(Job job)
    {
        CancellationToken stop;
        SemaphoreSlim slots;
        lock (_lock)
        {
            stop = _stop.Token;
            slots = _slots;
        }
        var attempt = 0;
        try
        {
            while (!stop.IsCancellationRequested && !job.Link.Closed)
            {
                lock (_lock)
                {
                    job.Again = false;
                }
                bool progress;
                try
                {
                    await slots.WaitAsync(stop).ConfigureAwait(false);
                    try
                    {
                        progress = await SummarizeDueAsync(job, stop).ConfigureAwait(false);
                    }
                    finally
                    {
                        slots.Release();
                    }
                    attempt = 0;
                    Recovered(job.Link.SessionId);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (SessionNotFoundException)
                {
                    return;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    attempt++;
                    var backoff = _backend.BackgroundSummaries.Backoff(attempt);
                    Failed(job.Link.SessionId, ex);
                    MemoryLog.SummaryFailed(_backend.Logger, job.Link.SessionId, _backend.Name, attempt, backoff.TotalMilliseconds, ex);
                    await Task.Delay(backoff, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                    continue;
                }
                lock (_lock)
                {
                    if (!job.Again && !(progress && SummaryChain.Due(job.Link.Handle.State)))
                    {
                        return;
                    }
                }
            }
        }
        finally
        {
            lock (_lock)
            {
                if (_jobs.TryGetValue(job.Link.SessionId, out var current) && ReferenceEquals(current, job))
                {
                    _jobs.Remove(job.Link.SessionId);
                }
            }
            End();
        }
    }

    /// <summary>
    /// One round for a session: extend the chain if a chunk to evict or the periodic threshold needs it (the
    /// summarizer runs unlocked), then, under the session's lock, store the summary if nobody moved the chain
    /// meanwhile and evict what it covers. True when something changed.
    /// </summary>
    private async Task<bool> SummarizeDueAsync(Job job, CancellationToken cancellationToken)
    {
        var link = job.Link;
        var handle = link.Handle;
        var st = handle.State;
        if (!SummaryChain.Automatic(st.Metadata))
        {
            return false;
        }
        var periodic = SummaryChain.ThresholdReached(st);
        var owed = !periodic && await SessionEviction.OwesSummaryAsync(handle, st, cancellationToken).ConfigureAwait(false);
        ConversationSummary? summary = null;
        var target = st.SummarizedThrough;
        if (periodic || owed)
        {
            // The chain grows by at most a threshold of messages per link, so a context always finds a summary
            // ending at most that far before its window, even when adds outran the summarizer (it then catches
            // up link by link). Within that, it reaches as far as it can, so the next chunks leave covered.
            target = Math.Min(st.LastSequence, st.SummarizedThrough + st.Metadata.AutoSummarizeThreshold);
            var type = periodic ? SummaryChain.AutomaticType(st.Metadata) : SummaryType.Auto;
            summary = await SummaryChain.MakeAsync(handle, _backend.Summarizer, st, target, type, _backend, cancellationToken).ConfigureAwait(false);
        }
        var changed = false;
        await link.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (link.Closed)
            {
                return false;
            }
            var now = handle.State;
            if (now.SummarizedThrough != st.SummarizedThrough)
            {
                // A manual summary moved the chain while this one was made: drop it, look again.
                return true;
            }
            if (summary is not null)
            {
                await handle.AddSummaryAsync(summary, CancellationToken.None).ConfigureAwait(false);
                changed = true;
            }
            else if (target > now.SummarizedThrough)
            {
                // Only system messages since the chain's end: nothing to summarize, the mark moves on.
                await handle.SaveAsync(now.Metadata, now.LastSequence, target, CancellationToken.None).ConfigureAwait(false);
                changed = true;
            }
        }
        finally
        {
            link.Gate.Release();
        }
        // The eviction is chosen with no lock held and taken in short locked steps: adds to the session wait
        // for a step, never for a read of its whole window (which grows while the summarizer lags).
        // While the chain lags (adds outrun the summarizer), eviction waits until it catches up: each eviction
        // reads the whole window, which keeps growing meanwhile, and those reads competed with the adds (their
        // p99) while evicting no more than the chain covers. The catching-up round evicts everything covered.
        if (!SummaryChain.ThresholdReached(handle.State))
        {
            changed |= await SessionEviction.EvictCoveredAsync(link, cancellationToken).ConfigureAwait(false);
        }
        return changed;
    }

    private void Failed(string sessionId, Exception ex)
    {
        lock (_lock)
        {
            _failing[sessionId] = ex.Message;
        }
        _backend.RecordError($"summarizing session '{sessionId}' failed: {ex.Message}");
    }

    private void Recovered(string sessionId)
    {
        lock (_lock)
        {
            _failing.Remove(sessionId);
        }
    }

    private void End()
    {
        TaskCompletionSource? idle = null;
        lock (_lock)
        {
            if (--_outstanding == 0)
            {
                idle = _idle;
            }
        }
        idle?.TrySetResult();
    }

    private static TaskCompletionSource Done()
    {
        var t = new TaskCompletionSource();
        t.SetResult();
        return t;
    }

    private sealed class Job(SessionLink link)
    {
        public SessionLink Link { get; } = link;

        /// <summary>Set (under the worker's lock) when the session was queued again while this job ran.</summary>
        public bool Again { get; set; }
    }
}
