using Microsoft.Extensions.Logging;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The <see cref="DurabilityMode.Batched"/> log: the <see cref="WriteThroughCommitLog"/> plus a timer
/// that fsyncs it every interval, which bounds what a power loss can take (Redis <c>appendfsync everysec</c>).
/// </summary>
internal sealed class BatchedCommitLog : ICommitLog
{
    private readonly WriteThroughCommitLog _log;
    private readonly Timer _timer;
    private long _syncs;

    /// <summary>Creates a new, empty log file starting at <paramref name="firstLsn"/>, fsynced every <paramref name="interval"/>.</summary>
    public BatchedCommitLog(IFileSystem fs, ulong firstLsn, TimeSpan interval, ILogger logger, uint keyId = 0)
    {
        _log = new WriteThroughCommitLog(fs, firstLsn, logger, keyId);
        _timer = new Timer(
            _ =>
            {
                _log.SyncNow();
                Interlocked.Increment(ref _syncs);
            },
            null,
            interval,
            interval);
    }

    /// <summary>Times the timer's fsync ran; tests use it to know a window has closed.</summary>
    public long BackgroundSyncs => Interlocked.Read(ref _syncs);

    /// <inheritdoc />
    public long Length => _log.Length;

    /// <inheritdoc />
    public long FileBytes => _log.FileBytes;

    /// <inheritdoc />
    public Exception? Failure => _log.Failure;

    /// <inheritdoc />
    public Task AppendAsync(ReadOnlySpan<byte> records) => _log.AppendAsync(records);

    /// <inheritdoc />
    public string? Rotate(ulong firstLsn) => _log.Rotate(firstLsn);

    /// <inheritdoc />
    public void Abandon()
    {
        _timer.Dispose();
        _log.Abandon();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _timer.Dispose();
        _log.Dispose();
    }
}
