namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// A shared/exclusive gate for async code: writes hold it shared from LSN reservation to index update; a
/// checkpoint holds it exclusive for the instant it rotates the log and captures the index, so that every
/// record below the new log's first LSN is in a segment and in the captured index.
/// </summary>
internal sealed class AsyncGate
{
    private readonly object _lock = new();
    private readonly SemaphoreSlim _exclusive = new(1, 1);
    private int _shared;
    private TaskCompletionSource? _drained;
    private TaskCompletionSource? _closed;

    /// <summary>Enters shared; completes at once unless a checkpoint holds the gate exclusive.</summary>
    public ValueTask EnterSharedAsync()
    {
        // The common case without a state machine: every add comes through here.
        lock (_lock)
        {
            if (_closed is null)
            {
                _shared++;
                return default;
            }
        }
        return EnterSharedSlowAsync();
    }

    private async ValueTask EnterSharedSlowAsync()
    {
        while (true)
        {
            Task wait;
            lock (_lock)
            {
                if (_closed is null)
                {
                    _shared++;
                    return;
                }
                wait = _closed.Task;
            }
            await wait.ConfigureAwait(false);
        }
    }

    public void ExitShared()
    {
        lock (_lock)
        {
            _shared--;
            if (_shared == 0)
            {
                _drained?.TrySetResult();
            }
        }
    }

    public async ValueTask EnterExclusiveAsync()
    {
        await _exclusive.WaitAsync().ConfigureAwait(false);
        Task drain;
        lock (_lock)
        {
            _closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_shared == 0)
            {
                return;
            }
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            drain = _drained.Task;
        }
        await drain.ConfigureAwait(false);
    }

    public void ExitExclusive()
    {
        TaskCompletionSource? closed;
        lock (_lock)
        {
            closed = _closed;
            _closed = null;
            _drained = null;
        }
        closed?.TrySetResult();
        _exclusive.Release();
    }
}
