using System.Buffers;
using LangSwarm.MemoryEngine.Format;
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
    private readonly IFileSystem _fs;
    private readonly ILogger _logger;
    private readonly object _lock = new();
    private readonly Thread _flusher;
    private ArrayBufferWriter<byte> _pending = new(1 << 16);
    private ArrayBufferWriter<byte> _spare = new(1 << 16);
    private int _pendingAdds;
    private TaskCompletionSource _batch = NewBatch();
    private IStorageFile _file;
    private string _fileName;
    private long _length;
    private Exception? _failure;
    private bool _stopping;
    private bool _flushRequested;

    /// <summary>Creates a new, empty log file starting at <paramref name="firstLsn"/> and starts its flusher.</summary>
    public GroupCommitLog(IFileSystem fs, ulong firstLsn, ILogger logger)
    {
        _fs = fs;
        _logger = logger;
        (_file, _fileName) = CommitLog.CreateFile(fs, firstLsn);
        _length = FileHeader.Size;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "lsmem-commit-log" };
        _flusher.Start();
    }

    /// <inheritdoc />
    public long Length => Interlocked.Read(ref _length);

    /// <inheritdoc />
    public Exception? Failure => _failure;

    /// <summary>Queues encoded records (LSNs already assigned); completes when they are written and fsynced.</summary>
    public Task AppendAsync(ReadOnlySpan<byte> records)
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(StorageFailureException.From(_failure, "The commit log failed earlier; reopen the store"));
            }
            if (_stopping)
            {
                return Task.FromException(new ObjectDisposedException(nameof(CommitLog)));
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
            if (CommitLog.FileNameFor(firstLsn) == _fileName)
            {
                return null;
            }
            var (file, name) = CommitLog.CreateFile(_fs, firstLsn);
            try
            {
                _file.Flush();
            }
            catch (Exception ex)
            {
                file.Dispose();
                Fail(ex);
                throw StorageFailureException.From(ex, "fsync of the commit log failed");
            }
            _file.Dispose();
            var old = _fileName;
            _file = file;
            _fileName = name;
            Interlocked.Exchange(ref _length, FileHeader.Size);
            return old;
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
            if (_failure is null)
            {
                try
                {
                    _file.Flush();
                }
                catch (IOException)
                {
                    // Nothing waits for this fsync any more; recovery will judge what reached the disk.
                }
            }
            _file.Dispose();
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
                _file.Write(Interlocked.Read(ref _length), bytes);
                Interlocked.Add(ref _length, bytes.Length);
                TimedSync.Flush(_file, _logger);
                MemoryTelemetry.EngineCommitGroupHistogram.Record(adds);
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
