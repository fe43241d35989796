using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Step 3 of recovery (FORMAT.md §8): replays the commit logs. Each record newer than its session's last
/// applied LSN is appended to the session's segment and applied; a damaged record or header is skipped to the
/// next record that verifies, reported, and its log kept aside rather than deleted.
/// </summary>
internal sealed class LogReplayer(IFileSystem fs, SegmentFiles files, SegmentAppender appender, SessionIndex index, RecoveryTally tally)
{
    private readonly HashSet<ulong> _seen = [];
    private ulong _coveredLsn;
    private Action<ulong>? _firstSeen;

    /// <summary>What this and the other steps of the recovery found.</summary>
    public RecoveryTally Tally => tally;

    /// <summary>Records replayed into segments.</summary>
    public long Records { get; private set; }

    /// <summary>Log files read without damage; they may be deleted once a new checkpoint is durable.</summary>
    public List<string> ReplayedLogs { get; } = [];

    /// <summary>Log files read with damage: renamed aside once a new checkpoint is durable, never deleted.</summary>
    public List<string> DamagedLogs { get; } = [];

    /// <summary>True when a log had a damaged header or records: what the damage hid may be only in the segments.</summary>
    public bool SawDamage => DamagedLogs.Count > 0;

    /// <summary>
    /// Replays every log of the store, skipping records below <paramref name="coveredLsn"/> (in the checkpoint).
    /// <paramref name="firstSeen"/> runs once per session, before the first of its records past the checkpoint is
    /// looked at: it brings that session's segments up to date first, so the log appends only what they lack.
    /// </summary>
    public void Run(ulong coveredLsn, Action<ulong>? firstSeen = null)
    {
        _coveredLsn = coveredLsn;
        _firstSeen = firstSeen;
        foreach (var (name, _) in fs.ListFiles(CommitLog.Directory))
        {
            var path = $"{CommitLog.Directory}/{name}";
            if (name.EndsWith(CommitLog.DamagedSuffix, StringComparison.Ordinal) && CommitLog.TryParseName(name[..^CommitLog.DamagedSuffix.Length], out _))
            {
                continue; // a damaged log an earlier recovery replayed and kept aside for inspection
            }
            if (!CommitLog.TryParseName(name, out _))
            {
                tally.Foreign.Add(path);
                continue;
            }
            using var f = fs.Open(path, create: false);
            var length = f.Length;
            var head = new byte[FileHeader.Size];
            FileHeader header = default;
            var status = f.Read(0, head) == FileHeader.Size ? FileHeader.TryRead(head, FileKind.CommitLog, out header) : FileHeaderStatus.Torn;
            if (status == FileHeaderStatus.NewerVersion)
            {
                throw new StoreVersionException($"Commit log '{path}' is format version {header.Version}; this build reads up to {FileHeader.CurrentVersion}.");
            }
            var damaged = false;
            if (status != FileHeaderStatus.Ok)
            {
                // A log whose creation a crash cut short holds nothing, but a damaged header in front of
                // acknowledged records must not hide them: records are self-delimiting and checksummed.
                damaged = true;
            }
            var result = StreamingRecordScanner.Scan(f.Read, FileHeader.Size, length, (long offset, in RecordHeader h, ReadOnlySpan<byte> record) => ReplayRecord(path, offset, h, record), resync: true);
            if (!LogFile.IsPadding(f, result.ValidEnd, length))
            {
                tally.Torn += length - result.ValidEnd;
            }
            if (damaged && result.Records == 0)
            {
                tally.Torn += result.ValidEnd;
                ReplayedLogs.Add(path);
                continue;
            }
            if (damaged)
            {
                tally.Damage.Add(new StoreDamage(path, 0, FileHeader.Size, $"commit log header is {status}; its records were replayed; the log is kept as {path}{CommitLog.DamagedSuffix}"));
            }
            foreach (var (offset, bytes) in result.Damage)
            {
                damaged = true;
                tally.Damage.Add(new StoreDamage(path, offset, bytes, $"damaged commit log record(s) skipped; the records after them were replayed; the log is kept as {path}{CommitLog.DamagedSuffix}"));
            }
            (damaged ? DamagedLogs : ReplayedLogs).Add(path);
        }
    }

    private void ReplayRecord(string path, long offset, in RecordHeader h, ReadOnlySpan<byte> record)
    {
        tally.NextLsn = Math.Max(tally.NextLsn, h.Lsn + 1);
        if (h.Lsn < _coveredLsn)
        {
            return; // already in the checkpoint
        }
        if (_firstSeen is { } first && _seen.Add(h.Session))
        {
            first(h.Session);
        }
        index.TryGet(h.Session, out var entry);
        if (entry is not null && h.Lsn <= entry.LastLsn)
        {
            return;
        }
        SessionState? decoded = null;
        if (entry is null && RecordApplier.IdHeldByAnother(index, h, record, out decoded) is { } holder)
        {
            if (h.Session < holder.Number)
            {
                return; // an older number of a re-created id: its delete follows in the log
            }
            tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, $"session {h.Session} is created with the id of session {holder.Number}, which was never deleted; skipped"));
            return;
        }
        if (entry is null && h.Type != RecordType.SessionState)
        {
            // Records of a session deleted later in the log, or whose creation is damaged.
            if (h.Session >= tally.NextSession)
            {
                tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, $"{h.Type} record for session {h.Session}, which has no creation record"));
            }
            return;
        }
        if (h.Type == RecordType.SessionDelete && entry is not null)
        {
            // The session ends here: nothing to append, only its files to remove.
            (uint Location, long Offset) tail;
            lock (entry.Lock)
            {
                tail = entry.Tail;
            }
            RecordApplier.Apply(index, h, record, tail.Location, tail.Offset);
            Records++;
            files.Deferred.Forget(entry.Number);
            DeleteSegments(entry);
            return;
        }
        uint segment;
        long at;
        if (files.Deferred.Owes(h.Session))
        {
            // Placed now, written from this log later (DeferredTails): the open touches no segment file.
            (segment, at, var rolled) = appender.Plan(entry, h.Session, record.Length);
            files.Deferred.Add(h.Session, segment, at, rolled, path, offset, record.Length);
        }
        else
        {
            (segment, at) = appender.Append(entry, h.Session, record);
        }
        var why = RecordApplier.Apply(index, h, record, segment, at, decoded);
        if (why is not null)
        {
            tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, why));
            return;
        }
        Records++;
        tally.NextSession = Math.Max(tally.NextSession, h.Session + 1);
    }

    private void DeleteSegments(SessionEntry entry)
    {
        foreach (var s in entry.Segments)
        {
            if (fs.FileExists(SegmentFiles.PathFor(entry.Number, s.Segment)))
            {
                files.Delete(entry.Number, s.Segment);
            }
        }
    }
}
