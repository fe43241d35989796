using System.Buffers;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Storage;

/// <summary>
/// The shared commit log in front of the per-session segments, with group commit: adds from any number of
/// sessions are queued, and one flusher thread writes each queued batch with one write and (under
/// <see cref="DurabilityMode.Strict"/>) one fsync, then acknowledges every add in it. With one fsync costing
/// ~140 µs here, 64 concurrent sessions pay one fsync per round instead of 64.
/// After any write or fsync failure the log refuses all further appends: data it could not make durable is
/// never reported safe, and the store must be reopened (recovery decides what survived).
/// </summary>
internal sealed class CommitLog : IDisposable
{
    /// <summary>Directory of the log files.</summary>
    public const string Directory = "wal";

    private readonly IFileSystem _fs;
    private readonly IDurabilityPolicy _policy;
    private readonly object _lock = new();
    private readonly Thread _flusher;
    private readonly Timer? _syncTimer;
    private ArrayBufferWriter<byte> _pending = new(1 << 16);
    private ArrayBufferWriter<byte> _spare = new(1 << 16);
    private TaskCompletionSource _batch = NewBatch();
    private IStorageFile _file;
    private string _fileName;
    private long _length;
    private long _unsynced;
    private long _backgroundSyncs;
    private Exception? _failure;
    private bool _stopping;
    private bool _flushRequested;

    private CommitLog(IFileSystem fs, IDurabilityPolicy policy, IStorageFile file, string fileName)
    {
        _fs = fs;
        _policy = policy;
        _file = file;
        _fileName = fileName;
        _length = FileHeader.Size;
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "lsmem-commit-log" };
        _flusher.Start();
        if (policy.BackgroundSyncInterval is { } interval)
        {
            _syncTimer = new Timer(
                _ =>
                {
                    SyncNow();
                    Interlocked.Increment(ref _backgroundSyncs);
                },
                null,
                interval,
                interval);
        }
    }

    /// <summary>Name of the file now being appended to.</summary>
    public string CurrentFile => _fileName;

    /// <summary>Bytes in the current log file.</summary>
    public long Length => Interlocked.Read(ref _length);

    /// <summary>The durability policy.</summary>
    public IDurabilityPolicy Policy => _policy;

    /// <summary>The failure that stopped the log, if any.</summary>
    public Exception? Failure => _failure;

    /// <summary>Suffix of a damaged log that recovery replayed and kept aside (FORMAT.md, commit log).</summary>
    public const string DamagedSuffix = ".damaged";

    /// <summary>Name of the log file that starts at <paramref name="firstLsn"/>.</summary>
    public static string FileNameFor(ulong firstLsn) => $"{firstLsn:x16}.log";

    /// <summary>Parses a log file name (<c>{firstLsn:x16}.log</c>); false for anything else.</summary>
    public static bool TryParseName(string name, out ulong firstLsn)
    {
        firstLsn = 0;
        return name.Length == 20 && name.EndsWith(".log", StringComparison.Ordinal)
            && ulong.TryParse(name.AsSpan(0, 16), System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out firstLsn);
    }

    /// <summary>Creates a new, empty log file starting at <paramref name="firstLsn"/> and makes its creation durable.</summary>
    public static CommitLog Create(IFileSystem fs, IDurabilityPolicy policy, ulong firstLsn)
    {
        var (file, name) = CreateFile(fs, firstLsn);
        return new CommitLog(fs, policy, file, name);
    }

    /// <summary>
    /// Queues encoded records (LSNs already assigned) and completes when they are acknowledged under the policy:
    /// written (Batched, None) or written and fsynced (Strict).
    /// </summary>
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
            if (!_policy.SyncBeforeAck)
            {
                // Without an fsync to share there is nothing to group: write through on the caller's thread,
                // sparing the hand-off to the flusher and back.
                try
                {
                    _file.Write(_length, records);
                    Interlocked.Add(ref _length, records.Length);
                    _unsynced += records.Length;
                    return Task.CompletedTask;
                }
                catch (Exception ex)
                {
                    Fail(ex);
                    return Task.FromException(StorageFailureException.From(ex, "Writing the commit log failed; the add is not durable"));
                }
            }
            records.CopyTo(_pending.GetSpan(records.Length));
            _pending.Advance(records.Length);
            _flushRequested = true;
            Monitor.Pulse(_lock);
            return _batch.Task;
        }
    }

    /// <summary>fsyncs everything written so far (Batched timer, checkpoints, close).</summary>
    public void SyncNow()
    {
        lock (_lock)
        {
            if (_failure is not null || _unsynced == 0)
            {
                return;
            }
            try
            {
                _file.Flush();
                _unsynced = 0;
            }
            catch (Exception ex)
            {
                Fail(ex);
            }
        }
    }

    /// <summary>
    /// Starts a new log file at <paramref name="firstLsn"/> (the checkpoint boundary); returns the name of the
    /// finished one, fsynced, or null when the current file holds no record yet (it then simply stays).
    /// Call with no appends in flight.
    /// </summary>
    public string? Rotate(ulong firstLsn)
    {
        lock (_lock)
        {
            ThrowIfFailed();
            if (FileNameFor(firstLsn) == _fileName)
            {
                return null;
            }
            var (file, name) = CreateFile(_fs, firstLsn);
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
            _unsynced = 0;
            return old;
        }
    }

    /// <summary>Times the background (Batched) fsync completed; tests use it to know a window has closed.</summary>
    public long BackgroundSyncs => Interlocked.Read(ref _backgroundSyncs);

    /// <summary>
    /// Stops the flusher without another write or fsync: what a killed process leaves behind. For crash tests.
    /// </summary>
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
        _syncTimer?.Dispose();
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
        _syncTimer?.Dispose();
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
                _flushRequested = false;
            }

            try
            {
                var bytes = batch.WrittenSpan;
                // The write runs outside the lock so producers keep queueing the next batch meanwhile.
                _file.Write(Interlocked.Read(ref _length), bytes);
                Interlocked.Add(ref _length, bytes.Length);
                if (_policy.SyncBeforeAck)
                {
                    _file.Flush();
                }
                else
                {
                    lock (_lock)
                    {
                        _unsynced += bytes.Length;
                    }
                }
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

    private static (IStorageFile File, string Name) CreateFile(IFileSystem fs, ulong firstLsn)
    {
        var name = FileNameFor(firstLsn);
        var path = $"{Directory}/{name}";
        var file = fs.Open(path, create: true);
        try
        {
            Span<byte> header = stackalloc byte[FileHeader.Size];
            new FileHeader(FileKind.CommitLog, FileHeader.CurrentVersion, firstLsn, 0).WriteTo(header);
            file.SetLength(0);
            file.Write(0, header);
            file.Flush();
            fs.SyncDirectory(Directory);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return (file, name);
    }

    private static TaskCompletionSource NewBatch() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
