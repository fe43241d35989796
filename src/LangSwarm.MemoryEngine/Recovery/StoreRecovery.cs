using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Brings the index up to date with the files after any stop, clean or not:
/// <list type="number">
/// <item>load the sessions from the index file (a damaged file is reported and ignored: the segments are the truth);</item>
/// <item>scan every segment past its checkpointed length, applying newer records and cutting a torn tail;</item>
/// <item>replay the commit logs: every record newer than its session's last applied LSN is appended to the
/// session's segment and applied, so the segments catch up with what was acknowledged.</item>
/// </list>
/// Every step is idempotent (records are applied only above each session's last LSN), so a crash inside
/// recovery is repaired by the next recovery. The caller then writes a fresh checkpoint and drops the logs.
/// </summary>
internal sealed class StoreRecovery(IFileSystem fs, SegmentFiles files, SegmentAppender appender, SessionIndex index, IndexFile? indexFile, string? indexProblem, ISessionContentSource contentSource)
{
    private readonly LogReplayer _logs = new(fs, files, appender, index, new RecoveryTally());
    private readonly List<(ulong Session, StoreDamage Damage)> _missing = [];
    private readonly HashSet<ulong> _deletedInSegments = [];

    // Each session's last segment as the loaded checkpoint names it: only a set above it can be a compaction's.
    private readonly Dictionary<ulong, uint> _checkpointLast = [];

    // Sessions whose segments wait for the log replay (their first segment was set aside).
    private readonly HashSet<ulong> _deferredSessions = [];
    private bool _rescanning;

    // Segments of a session whose id another number still held when they were scanned: a delete later in the
    // log usually settles it (delete X, create X again), so they are scanned again after the replay.
    private readonly List<(string Name, ulong Session, uint Segment, long Length)> _deferred = [];
    private long _segmentRecords;

    private RecoveryTally Tally => _logs.Tally;

    public ulong NextLsn
    {
        get => Tally.NextLsn;
        private set => Tally.NextLsn = value;
    }

    public ulong NextSession
    {
        get => Tally.NextSession;
        private set => Tally.NextSession = value;
    }

    public ulong CoveredLsn { get; private set; }

    /// <summary>Log files that recovery read; they may be deleted once a new checkpoint is durable.</summary>
    public List<string> ReplayedLogs => _logs.ReplayedLogs;

    /// <summary>Replayed log files with damage: kept aside (renamed), never deleted, once a new checkpoint is durable.</summary>
    public List<string> DamagedLogs => _logs.DamagedLogs;

    /// <param name="cleanShutdown">
    /// True when the store was closed cleanly and nothing has been written since: segments then hold exactly
    /// what the checkpoint says, and reading 100,000 segment files to learn so is skipped.
    /// </param>
    /// <param name="openDamage">Damage the caller found opening the files (reported with the rest).</param>
    public RecoveryResult Run(bool cleanShutdown = false, StoreDamage? openDamage = null)
    {
        if (openDamage is not null)
        {
            Tally.Damage.Add(openDamage);
        }
        var sw = Stopwatch.StartNew();
        var (loaded, problem) = LoadCheckpoint();
        var checkpointTime = sw.Elapsed;
        if (!(cleanShutdown && loaded))
        {
            ScanSegments();
        }
        // (After a clean close nothing is listed: a segment lost since then surfaces at its session's first read
        // or write as a typed error, and that close leaves no CLEAN marker, so the next open repairs it here.)
        var segmentTime = sw.Elapsed - checkpointTime;
        _logs.Run(CoveredLsn);
        ScanDeferred();
        var logTime = sw.Elapsed - checkpointTime - segmentTime;
        foreach (var (session, damage) in _missing)
        {
            // Only sessions that are still alive lost something; a delete in the log explains the rest.
            if (index.TryGet(session, out _))
            {
                Tally.Damage.Add(damage);
            }
        }
        sw.Stop();
        long messages = 0;
        foreach (var e in index.All())
        {
            lock (e.Lock)
            {
                messages += e.State.LiveMessages; // not e.Messages: that would read every session's entries
            }
        }
        return new RecoveryResult(loaded, problem, index.Count, messages, _segmentRecords, _logs.Records, Tally.Torn, Tally.Damage, Tally.Foreign, sw.Elapsed)
        {
            CheckpointLoadTime = checkpointTime,
            SegmentScanTime = segmentTime,
            LogReplayTime = logTime,
        };
    }

    private (bool, string?) LoadCheckpoint()
    {
        if (indexFile is null)
        {
            return (false, indexProblem);
        }
        if (!indexFile.HasCheckpoint)
        {
            return (false, indexProblem);
        }
        List<SessionEntry> sessions;
        try
        {
            sessions = indexFile.LoadSessions(contentSource);
        }
        catch (InvalidDataException ex)
        {
            return (false, $"index file ignored: {ex.Message}");
        }
        index.Load(sessions);
        foreach (var e in sessions)
        {
            if (e.Segments.Count > 0)
            {
                _checkpointLast[e.Number] = e.Segments[^1].Segment;
            }
        }
        CoveredLsn = indexFile.CoveredLsn;
        NextLsn = Math.Max(indexFile.NextLsn, indexFile.CoveredLsn);
        NextSession = Math.Max(1, indexFile.NextSession);
        return (true, null);
    }

    private void ScanSegments()
    {
        var checkpointSessions = NextSession;
        var listing = fs.ListFiles(SegmentFiles.Directory);
        _missing.AddRange(MissingSegments.Repair(files, index, MissingSegments.Present(listing)));
        var rewriteFloors = new Dictionary<ulong, uint>();
        foreach (var (name, fileLength) in listing)
        {
            if (!SegmentFiles.TryParseName(name, out var session, out var segment))
            {
                Tally.Foreign.Add($"{SegmentFiles.Directory}/{name}");
                continue;
            }
            index.TryGet(session, out var entry);
            if (entry is null && session < checkpointSessions)
            {
                // A session deleted before the checkpoint whose files outlived a crash: finish the delete.
                files.Delete(session, segment);
                continue;
            }
            if (entry is null && _deferredSessions.Contains(session))
            {
                _deferred.Add((name, session, segment, fileLength));
                continue;
            }
            if (entry is not null && IsUncommittedRewrite(session, segment, rewriteFloors))
            {
                // A compaction's new set that its checkpoint never named: the old set is still the session's
                // (what was appended to the new set meanwhile is in the commit log, replayed below).
                files.Delete(session, segment);
                continue;
            }
            ScanSegment(name, session, segment, entry, fileLength);
            NextSession = Math.Max(NextSession, session + 1);
        }
        // Finish deletes whose record reached a segment (stores written before deletes bypassed segments).
        foreach (var (name, _) in _deletedInSegments.Count == 0 ? [] : listing)
        {
            if (SegmentFiles.TryParseName(name, out var session, out var segment) && _deletedInSegments.Contains(session))
            {
                files.Delete(session, segment);
            }
        }
    }

    /// <summary>
    /// Scans the deferred segments again once the log has been replayed: their session is usually there by now
    /// (the log recreated it), or the number that held the id was deleted; if it still holds it, that is damage.
    /// </summary>
    private void ScanDeferred()
    {
        var pending = _deferred.ToArray();
        _rescanning = true;
        foreach (var (name, session, segment, _) in pending)
        {
            _deferred.Clear();
            index.TryGet(session, out var entry);
            var length = fs.FileExists(SegmentFiles.PathFor(session, segment)) ? files.Length(session, segment) : 0;
            if (length == 0)
            {
                continue;
            }
            ScanSegment(name, session, segment, entry, length);
            if (_deferred.Count > 0)
            {
                var path = $"{SegmentFiles.Directory}/{name}";
                Tally.Damage.Add(new StoreDamage(path, FileHeader.Size, length - FileHeader.Size, $"session {session} has an id another session holds; its segment is left as it is"));
            }
        }
        _deferred.Clear();
        _deferredSessions.Clear();
        _rescanning = false;
    }

    /// <summary>
    /// True for a segment of a compaction that never committed: at least the rewrite gap above the last segment
    /// the loaded checkpoint names for the session and starting with an opening record, or above such a one
    /// (the set's later files). The listing is sorted, so a set's first file comes before the rest.
    /// </summary>
    private bool IsUncommittedRewrite(ulong session, uint segment, Dictionary<ulong, uint> floors)
    {
        if (floors.TryGetValue(session, out var floor) && segment >= floor)
        {
            return true;
        }
        if (!_checkpointLast.TryGetValue(session, out var last) || segment < last + OpeningRecord.RewriteSegmentGap)
        {
            // Without a checkpoint nothing tells a compaction's set from the session's own: it is scanned, and
            // records at or below the session's last LSN (the copies) are skipped as older.
            return false;
        }
        var head = new byte[RecordHeader.Size];
        if (files.Read(session, segment, FileHeader.Size, head) != head.Length || !OpeningRecord.Is(head))
        {
            return false;
        }
        floors[session] = segment;
        return true;
    }

    private void ScanSegment(string name, ulong session, uint segment, SessionEntry? entry, long length)
    {
        var path = $"{SegmentFiles.Directory}/{name}";
        long start = FileHeader.Size;
        if (entry is not null)
        {
            lock (entry.Lock)
            {
                var known = entry.Segments.FindIndex(x => x.Segment == segment);
                if (known >= 0)
                {
                    start = entry.Segments[known].Length;
                }
                else if (entry.Segments.Count > 0 && entry.Segments[^1].Segment > segment)
                {
                    // Below the session's current segments and not among them: superseded by a compaction
                    // whose checkpoint committed. Finish its cleanup.
                    files.Delete(session, segment);
                    return;
                }
            }
        }
        if (entry is not null && start > FileHeader.Size && start == length)
        {
            return; // exactly what the checkpoint recorded: nothing to read
        }
        var head = new byte[FileHeader.Size];
        FileHeader header = default;
        var status = files.Read(session, segment, 0, head) == FileHeader.Size
            ? FileHeader.TryRead(head, FileKind.Segment, out header)
            : FileHeaderStatus.Torn;
        if (status == FileHeaderStatus.NewerVersion)
        {
            throw new StoreVersionException($"Segment '{path}' is format version {header.Version}; this build reads up to {FileHeader.CurrentVersion}.");
        }
        if (status != FileHeaderStatus.Ok || header.Owner != session || header.Sequence != segment)
        {
            if (entry is null)
            {
                // A segment whose creation a crash cut short holds nothing acknowledged.
                Tally.Torn += length;
                files.Delete(session, segment);
                return;
            }
            if (start <= FileHeader.Size)
            {
                Tally.Torn += length;
                bool known;
                lock (entry.Lock)
                {
                    known = entry.Segments.Exists(x => x.Segment == segment);
                }
                if (known)
                {
                    // Known but empty: rewrite its header so appends continue where the index expects them.
                    files.Create(session, segment);
                }
                else
                {
                    // Not the index's: a torn roll or an uncommitted compaction's file.
                    files.Delete(session, segment);
                }
                return;
            }
            Tally.Damage.Add(new StoreDamage(path, 0, FileHeader.Size, $"segment header is {status}"));
            return;
        }
        if (start >= length)
        {
            if (start > length)
            {
                Tally.Damage.Add(new StoreDamage(path, length, start - length, "segment shorter than the checkpoint says"));
            }
            return;
        }
        var applied = 0;
        var deferred = false;
        var result = SegmentReplayer.Replay(files, session, segment, start, length, index, new SegmentReplayer.Hooks
        {
            Admit = (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
            {
                if (deferred)
                {
                    return false;
                }
                if (entry is null && applied == 0 && ((h.Type != RecordType.SessionState && !_rescanning) || RecordApplier.IdHeldByAnother(index, h, record) is not null))
                {
                    // Not this session's creation (it may be in the log), or its id is another number's until a
                    // delete in the log: wait for the replay.
                    deferred = true;
                    return false;
                }
                if (h.Session != session)
                {
                    Tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, $"record of session {h.Session} in a segment of session {session}"));
                    return false;
                }
                return true;
            },
            Refused = (offset, h, why) => Tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, why)),
            Applied = (_, h) =>
            {
                _segmentRecords++;
                applied++;
                NextLsn = Math.Max(NextLsn, h.Lsn + 1);
                if (h.Type == RecordType.SessionDelete)
                {
                    _deletedInSegments.Add(session);
                }
            },
        });
        if (deferred)
        {
            _deferred.Add((name, session, segment, length));
            _deferredSessions.Add(session);
            return;
        }
        if (applied == 0 && entry is not null && start == FileHeader.Size)
        {
            // A segment the index does not know that added nothing: written by a compaction that never
            // committed, or a roll whose records were all lost. Nothing refers to it.
            files.Delete(session, segment);
            return;
        }
        if (result.ValidEnd < length)
        {
            Tally.Torn += length - result.ValidEnd;
            files.Truncate(session, segment, result.ValidEnd);
        }
        if (index.TryGet(session, out var after))
        {
            lock (after.Lock)
            {
                var i = after.Segments.FindIndex(x => x.Segment == segment);
                if (i >= 0)
                {
                    after.Segments[i] = new SegmentExtent(segment, result.ValidEnd);
                    after.Changed();
                }
            }
        }
    }
}
