using System.Buffers;
using LangSwarm.Memory;
using Microsoft.Extensions.Logging;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The <see cref="DurabilityMode.Strict"/> log, with group commit: adds from any number of sessions are queued,
/// and one flusher thread writes each queued batch with one write and one fsync, then acknowledges every add in
/// it, so concurrent sessions share one fsync per round instead of paying one each.
/// </summary>
internal sealed class GroupCommitLog : ICommitLog
{
    /// <summary>
    /// The log grows in zero-filled chunks of this size (FORMAT.md §5.2): a group written over them is made
    /// durable by an fsync with no new file length to journal, which is what every Strict add waits for.
    /// </summary>
    public const int PreallocateChunk = 1 << 20;

    private readonly LogFile _file;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly Thread _flusher;
    private ArrayBufferWriter<byte> _pending = new(1 << 16);
    private ArrayBufferWriter<byte> _spare = new(1 << 16);
    private int _pendingAdds;
    private TaskCompletionSource _batch = NewBatch();
    private Exception? _failure;
    private bool _stopping;
    private bool _flushRequested;

    /// <summary>Creates a new, empty log file starting at <paramref name="firstLsn"/> and starts its flusher.</summary>
    public GroupCommitLog(IFileSystem fs, ulong firstLsn, ILogger logger, uint keyId = 0)
    {
        _file = new LogFile(fs, firstLsn, keyId, PreallocateChunk);
        _logger = logger;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "lsmem-commit-log" };
        _flusher.Start();
    }

    /// <inheritdoc />
    public long Length => _file.Length;

    /// <inheritdoc />
    public long FileBytes => _file.FileBytes;

    /// <inheritdoc />
    public Exception? Failure => _failure;

    /// <summary>Queues encoded records (LSNs already assigned); completes when they are written and fsynced.</summary>
    public Task AppendAsync(ReadOnlySpan<byte> records)
    {
        lock (_lock)
        {
            if (CommitLog.Refusal(_failure, _stopping) is { } refused)
            {
                return refused;
            }
            records.CopyTo(_pending.GetSpan(records.Length));
            _pending.Advance(records.Length);
            _pendingAdds++;
            _flushRequested = true;
            Monitor.Pulse(_lock);
            return _batch.Task;
        }
    }

    /// <inheritdoc />
    public string? Rotate(ulong firstLsn)
    {
        lock (_lock)
        {
            ThrowIfFailed();
            try
            {
                return _file.Rotate(firstLsn);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Fail(ex);
                throw StorageFailureException.From(ex, "Closing the commit log file for the next one failed");
            }
        }
    }

    /// <inheritdoc />
    public void Abandon()
    {
        lock (_lock)
        {
            _failure ??= new ObjectDisposedException(nameof(CommitLog), "abandoned");
            _stopping = true;
            _flushRequested = false;
            _batch.TrySetException(new StorageFailureException("The process was cut off before this add was written."));
            Monitor.PulseAll(_lock);
        }
        _flusher.Join();
    }

    /// <summary>Flushes what is queued, fsyncs, and stops the flusher.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _stopping = true;
            Monitor.PulseAll(_lock);
        }
        _flusher.Join();
        lock (_lock)
        {
            _file.Close(sync: _failure is null);
        }
    }

    private void FlushLoop()
    {
        while (true)
        {
            ArrayBufferWriter<byte> batch;
            TaskCompletionSource done;
            int adds;
            lock (_lock)
            {
                while (!_flushRequested && !_stopping)
                {
                    Monitor.Wait(_lock);
                }
                if (!_flushRequested && _stopping)
                {
                    return;
                }
                batch = _pending;
                _pending = _spare;
                _spare = batch;
                done = _batch;
                _batch = NewBatch();
                adds = _pendingAdds;
                _pendingAdds = 0;
                _flushRequested = false;
            }

            try
            {
                var bytes = batch.WrittenSpan;
                // The write runs outside the lock so producers keep queueing the next batch meanwhile.
                _file.Append(bytes);
                TimedSync.Flush(_file.File, _logger);
                MemoryTelemetry.EngineCommitGroupHistogram.Record(adds, MemoryTelemetry.EngineTag);
                batch.Clear();
                done.TrySetResult();
            }
            catch (Exception ex)
            {
                batch.Clear();
                lock (_lock)
                {
                    Fail(ex);
                    _batch.TrySetException(StorageFailureException.From(ex, "The commit log failed; reopen the store"));
                }
                done.TrySetException(StorageFailureException.From(ex, "Writing the commit log failed; the add is not durable"));
                return;
            }
        }
    }

    private void Fail(Exception ex) => _failure ??= ex;

    private void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            throw StorageFailureException.From(_failure, "The commit log failed earlier; reopen the store");
        }
    }

    private static TaskCompletionSource NewBatch() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
