using Microsoft.Extensions.Logging;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The <see cref="DurabilityMode.None"/> log: each append is written on the caller's thread with one
/// <c>write</c> (in the OS's page cache once it returns, so a killed process loses nothing acknowledged);
/// fsync only at rotation and close (and on the <see cref="BatchedCommitLog"/> timer).
/// </summary>
internal sealed class WriteThroughCommitLog : ICommitLog
{
    private readonly LogFile _file;
    private readonly ILogger _logger;

    // Appends take _lock only. fsync, rotation and close take _syncLock first, so an fsync never holds up
    // appends (they keep writing to the same file meanwhile) and never meets a file that rotation closed.
    private readonly object _syncLock = new();
    private readonly object _lock = new();
    private long _unsynced;
    private Exception? _failure;
    private bool _stopping;

    /// <summary>Creates a new, empty log file starting at <paramref name="firstLsn"/>.</summary>
    public WriteThroughCommitLog(IFileSystem fs, ulong firstLsn, ILogger logger, uint keyId = 0)
    {
        _file = new LogFile(fs, firstLsn, keyId);
        _logger = logger;
    }

    /// <inheritdoc />
    public long Length => _file.Length;

    /// <inheritdoc />
    public long FileBytes => _file.FileBytes;

    /// <inheritdoc />
    public Exception? Failure => _failure;

    /// <inheritdoc />
    public Task AppendAsync(ReadOnlySpan<byte> records)
    {
        lock (_lock)
        {
            if (CommitLog.Refusal(_failure, _stopping) is { } refused)
            {
                return refused;
            }
            try
            {
                _file.Append(records);
                _unsynced += records.Length;
                return Task.CompletedTask;
            }
            catch (Exception ex)
            {
                _failure ??= ex;
                return Task.FromException(StorageFailureException.From(ex, "Writing the commit log failed; the add is not durable"));
            }
        }
    }

    /// <summary>fsyncs everything written so far (the Batched timer), without holding up appends.</summary>
    public void SyncNow()
    {
        lock (_syncLock)
        {
            IStorageFile file;
            long pending;
            lock (_lock)
            {
                if (_failure is not null || _stopping || _unsynced == 0)
                {
                    return;
                }
                file = _file.File;
                pending = _unsynced;
            }
            try
            {
                TimedSync.Flush(file, _logger);
                lock (_lock)
                {
                    _unsynced -= pending;
                }
            }
            catch (Exception ex)
            {
                lock (_lock)
                {
                    _failure ??= ex;
                }
            }
        }
    }

    /// <inheritdoc />
    public string? Rotate(ulong firstLsn)
    {
        lock (_syncLock)
        {
            return RotateLocked(firstLsn);
        }
    }

    private string? RotateLocked(ulong firstLsn)
    {
        lock (_lock)
        {
            if (_failure is not null)
            {
                throw StorageFailureException.From(_failure, "The commit log failed earlier; reopen the store");
            }
            try
            {
                var old = _file.Rotate(firstLsn);
                if (old is not null)
                {
                    _unsynced = 0;
                }
                return old;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _failure ??= ex;
                throw StorageFailureException.From(ex, "Closing the commit log file for the next one failed");
            }
        }
    }

    /// <inheritdoc />
    public void Abandon()
    {
        lock (_lock)
        {
            _failure ??= new ObjectDisposedException(nameof(WriteThroughCommitLog), "abandoned");
            _stopping = true;
        }
    }

    /// <summary>fsyncs (unless the log failed or was abandoned) and closes the file.</summary>
    public void Dispose()
    {
        lock (_syncLock)
        {
            DisposeLocked();
        }
    }

    private void DisposeLocked()
    {
        lock (_lock)
        {
            _stopping = true;
            _file.Close(sync: _failure is null);
        }
    }
}
