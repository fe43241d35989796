using Microsoft.Extensions.Logging;
using System.Buffers;
using System.Diagnostics;
using K4os.Compression.LZ4;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Compaction;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

internal sealed partial class StoreEngine
{
    private const double IndexCompactFreeFraction = 0.5;

    private readonly CancellationTokenSource _stopBackground = new();
    private readonly SemaphoreSlim _vacuumLock = new(1, 1);
    private int _lastRewriteFlushMs;

    // The longest pause between two sessions that VacuumPause is taken to mean.
    private const int MaxVacuumPauseMs = 10_000;
    private Task? _autoVacuum;

    /// <summary>When the last vacuum ended and what it did.</summary>
    public (DateTimeOffset At, VacuumReport Report)? LastVacuum { get; private set; }

    /// <summary>
    /// Rewrites the sessions the policy picks into new segments holding only their live records, then makes
    /// the switch durable with a checkpoint and deletes the old segments. Protocol (FORMAT.md §10):
    /// new files are written and fsynced first; the checkpoint that names them is the commit point; old files
    /// go only after it. A crash before the checkpoint leaves the old segments in charge (the new ones are
    /// orphans recovery deletes); after it, the new ones (the old ones are superseded and deleted).
    /// </summary>
    public async Task<VacuumReport> VacuumAsync(double minDeadFraction, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        var before = DiskBytes();
        int rewritten = 0, skipped = 0;
        long indexReclaimed = 0;
        var superseded = new List<(ulong Session, uint Segment)>();
        // One vacuum at a time, and verify waits for a whole pass (superseded segments are on disk until its end).
        // The checkpoint lock is held per rewritten session and for the commit, not across the pauses: a pass
        // over many sessions would otherwise keep every checkpoint out for its whole length (the log only grows).
        await _vacuumLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ThrowIfFailed();
            foreach (var entry in Index.All())
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break; // stop between sessions, but still commit what was rewritten (below)
                }
                if (!CompactionPolicy.ShouldRewrite(entry, minDeadFraction))
                {
                    continue;
                }
                await _checkpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
                try
                {
                    ThrowIfFailed();
                    if (await RewriteSessionAsync(entry, superseded).ConfigureAwait(false))
                    {
                        rewritten++;
                    }
                    else
                    {
                        skipped++;
                    }
                }
                finally
                {
                    _checkpointLock.Release();
                }
                // Throttle: each session's rewrite costs foreground writes about one slow add (CPU and disk
                // shared on a small machine); pausing between sessions spreads those over many more adds.
                var pause = _options.VacuumPause <= TimeSpan.Zero ? 0 : (int)Math.Min(_options.VacuumPause.TotalMilliseconds, MaxVacuumPauseMs);
                if (pause > 0)
                {
                    try
                    {
                        await Task.Delay(Math.Max(pause, _lastRewriteFlushMs), cancellationToken).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        break; // closing: commit what was rewritten (below)
                    }
                }
            }
            await _checkpointLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            try
            {
                if (rewritten > 0)
                {
                    await CheckpointCoreAsync().ConfigureAwait(false);
                    foreach (var (s, g) in superseded)
                    {
                        _segments.Delete(s, g);
                    }
                    _segments.SyncDirectory();
                }
                // The index file reuses freed pages, but deletes can leave many; repack it when half of it (and at
                // least IndexCompactMinFreeBytes) is free (its own rename switch, FORMAT.md §10 step 5).
                try
                {
                    indexReclaimed = _indexFile.CompactIfWorthIt(IndexCompactFreeFraction, _options.IndexCompactMinFreeBytes);
                }
                catch (InvalidDataException ex)
                {
                    await RebuildIndexFileExclusiveAsync(ex, _indexFile.CoveredLsn).ConfigureAwait(false);
                }
            }
            finally
            {
                _checkpointLock.Release();
            }
        }
        catch (IOException ex)
        {
            _failure ??= ex;
            throw StorageErrors.Wrap(ex, "Vacuum failed");
        }
        finally
        {
            _vacuumLock.Release();
        }
        var report = new VacuumReport(rewritten, skipped, before, DiskBytes(), sw.Elapsed) { IndexBytesReclaimed = indexReclaimed };
        LastVacuum = (DateTimeOffset.UtcNow, report);
        MemoryTelemetry.EngineVacuumHistogram.Record(report.Elapsed.TotalSeconds, MemoryTelemetry.EngineTag);
        MemoryTelemetry.EngineVacuumReclaimedCounter.Add(Math.Max(0, report.BytesBefore - report.BytesAfter), MemoryTelemetry.EngineTag);
        MemoryLog.VacuumCompleted(_logger, rewritten > 0 ? LogLevel.Information : LogLevel.Debug, rewritten, Math.Max(0, report.BytesBefore - report.BytesAfter), report.Elapsed.TotalMilliseconds);
        return report;
    }

    /// <summary>Starts the background vacuum when the options ask for one.</summary>
    private void StartAutoVacuum()
    {
        if (_options.AutoVacuumDeadFraction is not { } fraction)
        {
            return;
        }
        if (_options.AutoVacuumInterval == Timeout.InfiniteTimeSpan && _options.AutoVacuumWhenIdleFor is null)
        {
            return; // no trigger at all
        }
        _autoVacuum = Task.Run(async () =>
        {
            var token = _stopBackground.Token;
            var origin = Stopwatch.GetTimestamp();
            var schedule = new AutoVacuumSchedule(_options.AutoVacuumInterval, _options.AutoVacuumWhenIdleFor, Interlocked.Read(ref _nextLsn), TimeSpan.Zero);
            try
            {
                while (!token.IsCancellationRequested)
                {
                    await Task.Delay(schedule.Poll, token).ConfigureAwait(false);
                    // Every write reserves LSNs: an unchanged next LSN means no write since the last wake.
                    if (!schedule.IsDue(Interlocked.Read(ref _nextLsn), Stopwatch.GetElapsedTime(origin)))
                    {
                        continue;
                    }
                    if (Index.All().Exists(e => CompactionPolicy.ShouldRewrite(e, fraction)))
                    {
                        await VacuumAsync(fraction, token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException)
            {
                // Closing.
            }
            catch (MemoryException)
            {
                // A storage failure stopped the store; Failure and the health check report it.
            }
        });
    }

    /// <summary>Stops the background vacuum (between sessions) and waits for it.</summary>
    private void StopAutoVacuum()
    {
        _stopBackground.Cancel();
        try
        {
            _autoVacuum?.Wait();
        }
        catch (AggregateException)
        {
            // Its failure, if any, is already in Failure.
        }
    }

    /// <summary>Copies one session's live records into fresh segments and swaps them in; false when it changed meanwhile.</summary>
    private async Task<bool> RewriteSessionAsync(SessionEntry entry, List<(ulong, uint)> superseded)
    {
        List<SegmentExtent> oldSegments;
        HashSet<long> live;
        ulong snapshotLsn;
        SessionState state;
        bool cold;
        lock (entry.Lock)
        {
            oldSegments = [.. entry.Segments];
            live = [.. entry.LoadMessages().Select(m => m.Sequence)];
            snapshotLsn = entry.LastLsn;
            state = entry.State.Clone();
            cold = state.Metadata.Status == SessionStatus.Archived;
        }

        // 1. Gather the records that still matter, in LSN order: live messages, summaries, the latest state.
        //    Each once: a message by its sequence, a summary by its LSN (a copy left by an interrupted rewrite
        //    must never count twice).
        var keep = new List<(ulong Lsn, byte[] Bytes, RecordHeader Header)>();
        var takenMessages = new HashSet<long>();
        var takenSummaries = new HashSet<ulong>();
        byte[]? lastState = null;
        RecordHeader lastStateHeader = default;
        foreach (var seg in oldSegments)
        {
            var segment = seg.Segment;
            try
            {
                StreamingRecordScanner.Scan((at, buffer) => _segments.Read(entry.Number, segment, at, buffer), FileHeader.Size, seg.Length, (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
                {
                    if (h.Lsn > snapshotLsn)
                    {
                        return;
                    }
                    switch (h.Type)
                    {
                        case RecordType.Message when live.Contains(h.Sequence) && takenMessages.Add(h.Sequence):
                            keep.Add((h.Lsn, cold ? Recompress(h, record) : record.ToArray(), h));
                            break;
                        case RecordType.Summary when h.Lsn != 0 && takenSummaries.Add(h.Lsn):
                            keep.Add((h.Lsn, record.ToArray(), h));
                            break;
                        case RecordType.SessionState:
                            lastState = record.ToArray();
                            lastStateHeader = h;
                            break;
                    }
                }, resync: true);
            }
            catch (FileNotFoundException)
            {
                return false; // deleted meanwhile: nothing to compact
            }
        }
        if (lastState is not null)
        {
            keep.Add((lastStateHeader.Lsn, lastState, lastStateHeader));
        }
        keep.Sort((a, b) => a.Lsn.CompareTo(b.Lsn));

        // 2. Write them to new segments, after a synthetic opening state (LSN 0, zero counters) that lets a
        //    scan from nothing recreate the session; fsync files and directory before anything points at them.
        // Numbered well past the live segments: a roll by a concurrent append (which makes the swap give up)
        // must never land on a file the rewrite is writing or will delete.
        var first = oldSegments[^1].Segment + OpeningRecord.RewriteSegmentGap;
        var newSegments = new List<SegmentExtent>();
        var newMessages = new List<MessageEntry>(live.Count);
        var stateLength = 0;
        {
            var segment = first;
            long length = FileHeader.Size;
            _segments.Create(entry.Number, segment);
            void Put(ReadOnlySpan<byte> record, in RecordHeader h)
            {
                if (length + record.Length > _options.SegmentMaxBytes && length > FileHeader.Size)
                {
                    newSegments.Add(new SegmentExtent(segment, length));
                    segment++;
                    _segments.Create(entry.Number, segment);
                    length = FileHeader.Size;
                }
                _segments.Write(entry.Number, segment, length, record);
                if (h.Type == RecordType.Message)
                {
                    newMessages.Add(new MessageEntry(h.Sequence, h.TimeTicks, length, record.Length, h.Tokens, segment, h.Role, (byte)(h.Flags & RecordFlags.HasCalls), 0));
                }
                else if (h.Type == RecordType.SessionState)
                {
                    stateLength = record.Length;
                }
                length += record.Length;
            }
            var openingRecord = OpeningRecord.Encode(entry.Number, state, keepLastSequence: false);
            RecordHeader.TryRead(openingRecord, out var openingHeader, out _);
            Put(openingRecord, openingHeader);
            foreach (var (_, bytes, header) in keep)
            {
                Put(bytes, header);
            }
            newSegments.Add(new SegmentExtent(segment, length));
            // Sync each session's new files now, a few hundred KiB at a time between the pauses, rather than
            // leaving the whole pass for the committing checkpoint: one large flush there stalls every
            // foreground fsync behind it (bench C1). The checkpoint still syncs them (then clean) and seg/.
            var flush = Stopwatch.StartNew();
            foreach (var s in newSegments)
            {
                _segments.Flush(entry.Number, s.Segment);
            }
            _lastRewriteFlushMs = (int)Math.Ceiling(flush.Elapsed.TotalMilliseconds);
        }

        // 3. Swap, unless the session moved on meanwhile or has a write in flight (then the new files are
        //    dropped; a later pass retries). Under the session's lock only: a write reserves its place
        //    (Appending) under that lock before it takes an LSN, so none can land in the old segments after
        //    the swap, and other sessions' writes never wait for it.
        {
            // Membership outside the entry's lock (listings take the index lock, then entries'); a delete after
            // this check moves LastLsn, which the check under the lock sees.
            var filed = Index.TryGet(entry.Number, out _);
            lock (entry.Lock)
            {
                if (!filed || entry.Appending > 0 || entry.LastLsn != snapshotLsn)
                {
                    foreach (var s in newSegments)
                    {
                        _segments.Delete(entry.Number, s.Segment);
                    }
                    return false;
                }
                foreach (var s in oldSegments)
                {
                    superseded.Add((entry.Number, s.Segment));
                }
                entry.Segments.Clear();
                entry.Segments.AddRange(newSegments);
                var messages = entry.LoadMessages();
                messages.Clear();
                messages.AddRange(newMessages);
                // Counters follow what is live, by construction.
                long tokens = 0;
                foreach (var m in newMessages)
                {
                    tokens += m.Tokens;
                }
                entry.State.LiveMessages = newMessages.Count;
                entry.State.LiveTokens = tokens;
                entry.DeadBytes = 0;
                entry.LastStateLength = stateLength;
                entry.Cold = cold;
                entry.Changed(relocated: true);
            }
        }
        return true;
    }

    /// <summary>Re-encodes a message record with LZ4 HC for the cold form, keeping every header field.</summary>
    private static byte[] Recompress(in RecordHeader h, ReadOnlySpan<byte> record)
    {
        var n = RecordCodec.DecodePayload(record, h, out var payload);
        try
        {
            var output = new ArrayBufferWriter<byte>(record.Length + 64);
            RecordCodec.Encode(output, h, payload.AsSpan(0, n), LZ4Level.L09_HC);
            var bytes = output.WrittenSpan.ToArray();
            // Encode leaves the LSN as given in the header: the same as the original record's.
            return bytes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }
}
