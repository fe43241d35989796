using System.Diagnostics;
using System.Globalization;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Brings the index up to date with the files after any stop, clean or not (FORMAT.md §8):
/// <list type="number">
/// <item>load the sessions from the index file (a damaged file is reported and ignored: the segments are the truth);</item>
/// <item>replay the commit logs: before the first record of a session past the checkpoint, that session's
/// segments are scanned past their checkpointed length (newer records applied, a torn tail cut); then every
/// record newer than its session's last applied LSN is appended to the session's segment and applied;</item>
/// <item>without a loaded checkpoint, in a read-only view, or when a log was damaged, every segment is listed
/// and scanned as well.</item>
/// </list>
/// A segment is written only after the log holds its records, so the logs name every session whose files can
/// have changed since the checkpoint: an open reads those and the logs, never the whole directory. What only
/// a listing finds (files a crash left behind, a tail no log covers) is left to <see cref="SegmentSweep"/>,
/// which the engine runs after the open. Every step is idempotent (records are applied only above each
/// session's last LSN), so a crash inside recovery is repaired by the next recovery.
/// </summary>
internal sealed class StoreRecovery(IFileSystem fs, SegmentFiles files, PackFiles packs, SegmentAppender appender, SessionIndex index, IndexFile? indexFile, string? indexProblem, ISessionContentSource contentSource)
{
    /// <summary>
    /// How far past the checkpoint an unclean open moves the next LSN (FORMAT.md §8): above every LSN a record
    /// written since the checkpoint can carry, so a segment tail no surviving log covers (a power loss outside
    /// Strict) holds only records older than anything written from now on, which are skipped, never applied.
    /// </summary>
    public const ulong LsnEpoch = 1UL << 32;

    private readonly LogReplayer _logs = new(fs, files, appender, index, new RecoveryTally());
    private SegmentTailScanner? _tailScanner;
    private readonly List<(ulong Session, StoreDamage Damage)> _missing = [];

    private ulong _checkpointNextSession = 1;
    private bool _checkpointLoaded;
    private readonly Stopwatch _sessionScans = new();

    private RecoveryTally Tally => _logs.Tally;

    // Shares the log replayer's tally: both steps count into one result.
    private SegmentTailScanner Tails => _tailScanner ??= new SegmentTailScanner(fs, files, index, Tally);

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

    /// <summary>Segment files (and packs) recovery read past their header.</summary>
    public int SegmentFilesRead => Tails.FilesRead + (_packScanner?.FilesRead ?? 0);

    private PackScanner? _packScanner;

    /// <summary>
    /// True when this recovery read only the sessions the logs name: files a crash may have left behind are
    /// still on disk, and the engine sweeps them (<see cref="SegmentSweep"/>) before its next compaction.
    /// </summary>
    public bool NeedsSweep { get; private set; }

    /// <summary>Log files that recovery read; they may be deleted once a new checkpoint is durable.</summary>
    public List<string> ReplayedLogs => _logs.ReplayedLogs;

    /// <summary>Replayed log files with damage: kept aside (renamed), never deleted, once a new checkpoint is durable.</summary>
    public List<string> DamagedLogs => _logs.DamagedLogs;

    /// <param name="cleanShutdown">
    /// True when the store was closed cleanly and nothing has been written since: the logs are empty, segments
    /// hold exactly what the checkpoint says, and nothing needs a sweep.
    /// </param>
    /// <param name="openDamage">Damage the caller found opening the files (reported with the rest).</param>
    /// <param name="scanAllSegments">List and scan every segment (a read-only view, whose verify must see the
    /// store as a full open would).</param>
    public RecoveryResult Run(bool cleanShutdown = false, StoreDamage? openDamage = null, bool scanAllSegments = false)
    {
        if (openDamage is not null)
        {
            Tally.Damage.Add(openDamage);
        }
        var sw = Stopwatch.StartNew();
        var (loaded, problem) = LoadCheckpoint();
        var checkpointTime = sw.Elapsed;
        var full = scanAllSegments || !loaded;
        if (full)
        {
            ScanSegments();
        }
        var listingTime = sw.Elapsed - checkpointTime;
        _logs.Run(CoveredLsn, full ? null : ScanSession);
        if (!full && _logs.SawDamage)
        {
            // A damaged span can hide every log record of a session whose segment holds them: scan them all.
            // The replay's appends, owed ones included, reach the files first: the listing must show what the
            // index knows.
            var t = Stopwatch.StartNew();
            files.Deferred.SettleAll();
            files.WriteAllPending();
            ScanSegments();
            listingTime += t.Elapsed;
            full = true;
        }
        Tails.ScanDeferred();
        var segmentTime = listingTime + _sessionScans.Elapsed;
        var logTime = sw.Elapsed - checkpointTime - segmentTime;
        if (!full && !cleanShutdown)
        {
            NextLsn = Math.Max(NextLsn, CoveredLsn + LsnEpoch);
            NeedsSweep = true;
        }
        foreach (var (session, damage) in _missing)
        {
            // Only sessions that are still alive lost something; a delete in the log explains the rest.
            if (index.TryGet(session, out _))
            {
                Tally.Damage.Add(damage);
            }
        }
        sw.Stop();
        var totals = index.Totals(); // the file's totals plus what recovery changed: no pass over every session
        return new RecoveryResult(loaded, problem, (int)totals.Sessions, totals.Messages, Tails.Records + (_packScanner?.Records ?? 0), _logs.Records, Tally.Torn, Tally.Damage, Tally.Foreign, sw.Elapsed)
        {
            CheckpointLoadTime = checkpointTime,
            SegmentScanTime = segmentTime,
            LogReplayTime = logTime,
            SegmentFilesRead = SegmentFilesRead,
            SessionsDeferred = files.Deferred.Sessions,
            SegmentsListed = full,
        };
    }

    /// <summary>
    /// Runs before the log replays the first record of a session past the checkpoint. When the session's last
    /// checkpointed segment is there, at least as long as the checkpoint says (one metadata lookup), or the
    /// session has no segment of its own (new since the checkpoint, or packed), the session's log records are
    /// placed without being written (<see cref="DeferredTails"/>): the open reads no segment file. Otherwise its
    /// segments are brought up to date first: the named segments the directory lost or holds short are repaired,
    /// the last one is scanned past its checkpointed length (newer records applied, a torn tail cut), and the
    /// segments a roll added after it (numbered on, while they exist) are scanned whole, so the log appends only
    /// what they lack. A session the checkpoint does not hold is new since then (its creation is in the log),
    /// unless its number is below the checkpoint's next one: then it was deleted before the checkpoint, and only
    /// the sweep has anything to do with its files.
    /// </summary>
    private void ScanSession(ulong session)
    {
        _sessionScans.Start();
        // The log names the number: a writer took it, so no new session may get it again.
        NextSession = Math.Max(NextSession, session + 1);
        try
        {
            uint next = 0;
            if (index.TryGet(session, out var entry))
            {
                SegmentExtent? last = null;
                lock (entry.Lock)
                {
                    if (entry.Segments.Count > 0)
                    {
                        last = entry.Segments[^1];
                    }
                }
                if (last is not { } l)
                {
                    // A packed session: a write after the pack started its own segments at NextOwnSegment.
                    files.Deferred.Begin(session, null);
                    return;
                }
                if (fs.FileLength(SegmentFiles.PathFor(session, l.Segment)) is { } length && length >= l.Length)
                {
                    files.Deferred.Begin(session, (l.Segment, l.Length));
                    return;
                }
                MissingSegments.Repair(files, entry, LengthOf, _missing, index.Cipher);
                lock (entry.Lock)
                {
                    l = entry.Segments[^1];
                }
                Tails.Scan(SegmentFiles.NameFor(session, l.Segment), session, l.Segment, entry, files.Length(session, l.Segment));
                next = l.Segment + 1;
            }
            else if (session < _checkpointNextSession)
            {
                return;
            }
            else
            {
                files.Deferred.Begin(session, null);
                return;
            }
            while (LengthOf(session, next) is { } length)
            {
                index.TryGet(session, out entry);
                Tails.Scan(SegmentFiles.NameFor(session, next), session, next, entry, length);
                next++;
            }
        }
        finally
        {
            _sessionScans.Stop();
        }
    }

    private long? LengthOf(ulong session, uint segment) =>
        fs.FileExists(SegmentFiles.PathFor(session, segment)) ? files.Length(session, segment) : null;

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
        try
        {
            // Sessions load from the file on first use; only a file of an older layout is read whole, once.
            indexFile.UpgradeLayout(contentSource);
        }
        catch (InvalidDataException ex)
        {
            index.Attach(null, empty: true); // nothing loads from it: the segments rebuild the index
            return (false, $"index file ignored: {ex.Message}");
        }
        index.Packs.Clear();
        try
        {
            foreach (var (number, image) in indexFile.Packs())
            {
                if (!packs.Exists(number))
                {
                    // Its sessions' records are gone with it: only the files can say which sessions are left.
                    Tally.Damage.Add(new StoreDamage(PackFiles.PathFor(number), 0, image.Length, "pack file is missing; the index is rebuilt from the files"));
                    index.Packs.Clear();
                    index.Attach(null, empty: true);
                    return (false, $"index file ignored: pack {PackFiles.PathFor(number)} is missing");
                }
                index.Packs.Load(number, image);
            }
        }
        catch (InvalidDataException ex)
        {
            index.Packs.Clear();
            index.Attach(null, empty: true);
            return (false, $"index file ignored: {ex.Message}");
        }
        CoveredLsn = indexFile.CoveredLsn;
        NextLsn = Math.Max(indexFile.NextLsn, indexFile.CoveredLsn);
        NextSession = Math.Max(1, indexFile.NextSession);
        _checkpointNextSession = NextSession;
        _checkpointLoaded = true;
        return (true, null);
    }

    private void ScanSegments()
    {
        // The checkpoint's own: after a replay, a session the log created holds a higher number.
        var checkpointSessions = _checkpointNextSession;
        if (!_checkpointLoaded)
        {
            // Without a loaded index the packs come first: every record in a session's own segments came after
            // the group its pack holds. With one, the index names every pack and every group (packs never change
            // but by erasure), and a pack it does not name is left to the sweep.
            _packScanner = new PackScanner(fs, packs, index, Tally);
            _packScanner.ScanAll();
        }
        var listing = fs.ListFiles(SegmentFiles.Directory);
        _missing.AddRange(MissingSegments.Repair(files, index, MissingSegments.Present(listing)));
        var rewriteFloors = new Dictionary<ulong, uint>();
        var highest = new Dictionary<ulong, uint>();
        foreach (var (name, fileLength) in listing)
        {
            if (!SegmentFiles.TryParseName(name, out var session, out var segment))
            {
                Tally.Foreign.Add($"{SegmentFiles.Directory}/{name}");
                continue;
            }
            highest[session] = Math.Max(segment, highest.GetValueOrDefault(session));
            index.TryGet(session, out var entry);
            if (entry is null && session < checkpointSessions)
            {
                // A session deleted before the checkpoint whose files outlived a crash: finish the delete.
                files.Delete(session, segment);
                continue;
            }
            if (entry is null && Tails.DeferIfWaiting(name, session, segment, fileLength))
            {
                continue;
            }
            if (entry is not null && IsUncommittedRewrite(session, segment, rewriteFloors))
            {
                // A compaction's new set that its checkpoint never named: the old set is still the session's
                // (what was appended to the new set meanwhile is in the commit log, replayed below).
                files.Delete(session, segment);
                continue;
            }
            Tails.Scan(name, session, segment, entry, fileLength);
            NextSession = Math.Max(NextSession, session + 1);
        }
        _packScanner?.SetNextSegments(highest);
        // Finish deletes whose record reached a segment (stores written before deletes bypassed segments).
        foreach (var (name, _) in Tails.DeletedInSegments.Count == 0 ? [] : listing)
        {
            if (SegmentFiles.TryParseName(name, out var session, out var segment) && Tails.DeletedInSegments.Contains(session))
            {
                files.Delete(session, segment);
            }
        }
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
        // Each session's last segment as the loaded checkpoint names it: only a set above it can be a compaction's.
        if (!_checkpointLoaded || indexFile?.LastSegmentOf(session) is not { } last || segment < last + OpeningRecord.RewriteSegmentGap)
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
}
