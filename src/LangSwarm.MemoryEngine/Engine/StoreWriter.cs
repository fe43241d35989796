using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// The write path of every record batch (creates, adds, states and summaries, deletes): reserve LSNs under the
/// shared gate, append to the commit log and wait for its acknowledgement, then append to the session's segment
/// and apply to the index; a full log then starts a background checkpoint. Any storage failure stops all writes.
/// </summary>
internal sealed class StoreWriter(EngineCore core, Checkpointer checkpointer, SessionReader reader)
{
    private readonly EngineCore _core = core;
    private readonly Checkpointer _checkpointer = checkpointer;
    private readonly SessionReader _reader = reader;

    /// <summary>Creates a session from <paramref name="state"/> (encoded, not kept); its new entry, or null when the id exists.</summary>
    public async Task<SessionEntry?> CreateSessionAsync(SessionState state)
    {
        var id = state.Metadata.SessionId;
        if (!_core.Index.TryReserve(id))
        {
            return null;
        }
        var number = _core.ReserveSession();
        var batch = RecordBatch.Rent(_core.Cipher);
        try
        {
            WriteRecords.AddState(batch, number, state);
            await CommitAsync(null, number, batch).ConfigureAwait(false);
            // Filed by the commit; gone only if a delete already followed it.
            return _core.Index.TryGet(number, out var entry) ? entry : throw new SessionNotFoundException(id);
        }
        finally
        {
            _core.Index.Unreserve(id);
            RecordBatch.Return(batch);
        }
    }

    /// <summary>
    /// Appends messages as one batch. Not an async method: an add that completes at once (no fsync to wait for,
    /// no checkpoint holding the gate) runs without a state machine of its own; the returned task carries
    /// every failure, as an async method's would.
    /// </summary>
    public Task AppendMessagesAsync(SessionEntry entry, IReadOnlyList<Message> messages, long writtenTicks)
    {
        var batch = RecordBatch.Rent(_core.Cipher);
        Task commit;
        try
        {
            // Sealed by CommitAsync (StampLsns) once the LSNs are reserved.
            WriteRecords.AddMessages(batch, entry.Number, messages, writtenTicks);
            commit = CommitAsync(entry, entry.Number, batch);
        }
        catch (Exception ex)
        {
            RecordBatch.Return(batch);
            return Task.FromException(ex);
        }
        return Finally(commit, static b => RecordBatch.Return(b), batch);
    }

    /// <summary>
    /// Runs <paramref name="after"/> once <paramref name="commit"/> is done, however it ends; at once (without a
    /// state machine) when it already is.
    /// </summary>
    private static Task Finally<T>(Task commit, Action<T> after, T state)
    {
        if (commit.IsCompleted)
        {
            after(state);
            return commit;
        }
        return FinallyAsync(commit, after, state);
    }

    private static async Task FinallyAsync<T>(Task commit, Action<T> after, T state)
    {
        try
        {
            await commit.ConfigureAwait(false);
        }
        finally
        {
            after(state);
        }
    }

    public async Task WriteStateAsync(SessionEntry entry, SessionState state, ConversationSummary? summary = null, IReadOnlyList<long>? evict = null)
    {
        var batch = RecordBatch.Rent(_core.Cipher);
        try
        {
            var now = DateTimeOffset.UtcNow.UtcTicks;
            if (summary is not null)
            {
                WriteRecords.AddSummary(batch, entry.Number, summary, state.LastSequence, now);
            }
            if (evict is not null)
            {
                WriteRecords.AddEvict(batch, entry.Number, evict, state.LastSequence, now);
            }
            WriteRecords.AddState(batch, entry.Number, state);
            await CommitAsync(entry, entry.Number, batch).ConfigureAwait(false);
        }
        finally
        {
            RecordBatch.Return(batch);
        }
    }

    /// <summary>Deletes a session: a durable delete record, then its segment files.</summary>
    public async Task DeleteSessionAsync(SessionEntry entry)
    {
        var batch = RecordBatch.Rent(_core.Cipher);
        try
        {
            long lastSequence;
            lock (entry.Lock)
            {
                lastSequence = entry.State.LastSequence;
            }
            WriteRecords.AddDelete(batch, entry.Number, lastSequence, DateTimeOffset.UtcNow.UtcTicks);
            await CommitAsync(entry, entry.Number, batch, deleting: true).ConfigureAwait(false);
        }
        finally
        {
            RecordBatch.Return(batch);
        }
    }

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
        if (_core.Closed)
        {
            return Task.FromException(new ObjectDisposedException(typeof(StoreEngine).FullName));
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
        return Finally(commit, static e => EndAppending(e), entry);
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
        await _core.Gate.EnterSharedAsync().ConfigureAwait(false);
        try
        {
            _core.ThrowIfFailed();
            if (entry is not null && !deleting)
            {
                EnsureWritable(entry);
            }
            var first = _core.ReserveLsns(batch.Count);
            batch.StampLsns(first);
            await _core.Log.AppendAsync(batch.Buffer.WrittenSpan).ConfigureAwait(false);
            try
            {
                for (var i = 0; i < batch.Count; i++)
                {
                    var record = batch.Record(i);
                    RecordHeader.TryRead(record, out var header, out _);
                    if (header.Type == RecordType.SessionDelete && entry is not null)
                    {
                        // A deleted session's files go away whole; the record lives only in the log.
                        (uint Location, long Offset) tail;
                        lock (entry.Lock)
                        {
                            tail = entry.Tail;
                        }
                        RecordApplier.Apply(_core.Index, header, record, tail.Location, tail.Offset);
                        continue;
                    }
                    var (segment, offset) = _core.Appender.Append(entry, session, record);
                    var why = RecordApplier.Apply(_core.Index, header, record, segment, offset);
                    if (why is not null)
                    {
                        throw new StorageCorruptionException($"Index refused a new record: {why}");
                    }
                    if (entry is null)
                    {
                        _core.Index.TryGet(session, out entry);
                    }
                }
                if (deleting && entry is not null)
                {
                    _core.Segments.Deferred.Forget(entry.Number); // what an unclean open owed it goes with its files
                    foreach (var s in entry.Segments)
                    {
                        _core.Segments.Delete(entry.Number, s.Segment);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Durable in the log but not in the segment: reopening replays it. Stop writing until then.
                _core.Fail(ex);
                throw StorageErrors.Wrap(ex, "Writing a segment failed after the commit log took the record");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _core.Fail(ex);
            throw StorageErrors.Wrap(ex, "Writing the commit log failed");
        }
        finally
        {
            _core.Gate.ExitShared();
        }
        _checkpointer.MaybeCheckpoint();
    }

    /// <summary>
    /// Before anything reaches the log: the segment the session appends to must be there (an open handle, or
    /// a file to open). A file lost from under the store fails this session's write with a typed error naming
    /// it, writes nothing, and leaves every other session writing; reopening repairs it (reported).
    /// </summary>
    private void EnsureWritable(SessionEntry entry)
    {
        uint segment;
        lock (entry.Lock)
        {
            if (entry.Segments.Count == 0)
            {
                return; // a packed session: its next record creates its segment
            }
            segment = entry.Segments[^1].Segment;
        }
        try
        {
            _core.Segments.EnsureOpen(entry.Number, segment);
        }
        catch (FileNotFoundException)
        {
            throw _reader.MissingSegment(entry, segment);
        }
    }
}
