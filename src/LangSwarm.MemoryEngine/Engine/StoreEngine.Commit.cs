using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>The commit of a write: log, segment, index (the shared path of every record batch).</summary>
internal sealed partial class StoreEngine
{
    /// <summary>
    /// The write path: reserve LSNs, append to the commit log and wait for the policy's acknowledgement, then
    /// append to the session's segment and apply to the index. Any storage failure stops all writes.
    /// </summary>
    /// <remarks>
    /// Not an async method (see <see cref="AppendMessagesAsync"/>): failures before the commit starts are
    /// returned as a faulted task, as before.
    /// </remarks>
    private Task CommitAsync(SessionEntry? entry, ulong session, RecordBatch batch, bool deleting = false)
    {
        if (_disposed)
        {
            return Task.FromException(new ObjectDisposedException(GetType().FullName));
        }
        if (entry is null)
        {
            return CommitGatedAsync(null, session, batch, deleting);
        }
        // A compaction swaps a session's segments only while none of its writes is between the log and the
        // index (SessionEntry.Appending), so it needs no store-wide exclusive gate. A deleted session takes no
        // write at all: nothing reaches the log for it.
        lock (entry.Lock)
        {
            if (entry.Removed)
            {
                return Task.FromException(new SessionNotFoundException(entry.State.Metadata.SessionId));
            }
            entry.Appending++;
        }
        Task commit;
        try
        {
            commit = CommitGatedAsync(entry, session, batch, deleting);
        }
        catch
        {
            EndAppending(entry);
            throw;
        }
        if (commit.IsCompleted)
        {
            EndAppending(entry);
            return commit;
        }
        return EndAppendingAfterAsync(commit, entry);
    }

    private static async Task EndAppendingAfterAsync(Task commit, SessionEntry entry)
    {
        try
        {
            await commit.ConfigureAwait(false);
        }
        finally
        {
            EndAppending(entry);
        }
    }

    private static void EndAppending(SessionEntry entry)
    {
        lock (entry.Lock)
        {
            entry.Appending--;
        }
    }

    private async Task CommitGatedAsync(SessionEntry? entry, ulong session, RecordBatch batch, bool deleting)
    {
        await _gate.EnterSharedAsync().ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            if (entry is not null && !deleting)
            {
                EnsureWritable(entry);
            }
            var first = (ulong)Interlocked.Add(ref _nextLsn, batch.Count) - (ulong)batch.Count;
            batch.StampLsns(first);
            await _log.AppendAsync(batch.Buffer.WrittenSpan).ConfigureAwait(false);
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var record = batch.Record(i);
                    RecordHeader.TryRead(record, out var header, out _);
                    if (header.Type == RecordType.SessionDelete && entry is not null)
                    {
                        // A deleted session's files go away whole; the record lives only in the log.
                        var last = entry.Segments[^1];
                        RecordApplier.Apply(Index, header, record, last.Segment, last.Length);
                        continue;
                    }
                    var (segment, offset) = _appender.Append(entry, session, record);
                    var why = RecordApplier.Apply(Index, header, record, segment, offset);
                    if (why is not null)
                    {
                        throw new StorageCorruptionException($"Index refused a new record: {why}");
                    }
                    if (entry is null)
                    {
                        Index.TryGet(session, out entry);
                    }
                }
                if (deleting && entry is not null)
                {
                    foreach (var s in entry.Segments)
                    {
                        _segments.Delete(entry.Number, s.Segment);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Durable in the log but not in the segment: reopening replays it. Stop writing until then.
                _failure ??= ex;
                throw StorageErrors.Wrap(ex, "Writing a segment failed after the commit log took the record");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failure ??= ex;
            throw StorageErrors.Wrap(ex, "Writing the commit log failed");
        }
        finally
        {
            _gate.ExitShared();
        }
        MaybeCheckpoint();
    }

    private void ThrowIfFailed()
    {
        if (Failure is { } f)
        {
            throw StorageFailureException.From(f, "The store stopped accepting writes after a storage failure; reopen it to recover");
        }
    }
}
