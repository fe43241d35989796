using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Step 2 of recovery for one segment at a time (FORMAT.md §8): verify and apply what lies past the index's
/// length, cut a torn tail, delete what a crash left half-made, and set aside a segment whose session's creation
/// the log has not given yet (scanned again after the replay). Owns the set-aside list and the counts.
/// </summary>
internal sealed class SegmentTailScanner(IFileSystem fs, SegmentFiles files, SessionIndex index, RecoveryTally tally)
{
    // Segments of a session whose id another number still held when they were scanned: a delete later in the
    // log usually settles it (delete X, create X again), so they are scanned again after the replay.
    private readonly List<(string Name, ulong Session, uint Segment, long Length)> _deferred = [];

    // Sessions whose segments wait for the log replay (their first segment was set aside).
    private readonly HashSet<ulong> _deferredSessions = [];
    private bool _rescanning;

    /// <summary>Records applied from segments.</summary>
    public long Records { get; private set; }

    /// <summary>Segment files read past their header.</summary>
    public int FilesRead { get; private set; }

    /// <summary>Sessions whose SessionDelete was found in a segment (earlier builds wrote it there too).</summary>
    public HashSet<ulong> DeletedInSegments { get; } = [];

    /// <summary>Sets a segment aside when its session already waits for the replay; true when it did.</summary>
    public bool DeferIfWaiting(string name, ulong session, uint segment, long length)
    {
        if (!_deferredSessions.Contains(session))
        {
            return false;
        }
        _deferred.Add((name, session, segment, length));
        return true;
    }

    /// <summary>
    /// Scans the deferred segments again once the log has been replayed: their session is usually there by now
    /// (the log recreated it), or the number that held the id was deleted; if it still holds it, that is damage.
    /// </summary>
    public void ScanDeferred()
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
            Scan(name, session, segment, entry, length);
            if (_deferred.Count > 0)
            {
                var path = $"{SegmentFiles.Directory}/{name}";
                tally.Damage.Add(new StoreDamage(path, FileHeader.Size, length - FileHeader.Size, $"session {session} has an id another session holds; its segment is left as it is"));
            }
        }
        _deferred.Clear();
        _deferredSessions.Clear();
        _rescanning = false;
    }

    /// <summary>
    /// Reads a segment from the length the index knows (the file header for one it does not name) to
    /// <paramref name="length"/>: records above their session's last LSN are applied, a torn tail is cut, and a
    /// segment whose session's creation is not (yet) known is set aside for <see cref="ScanDeferred"/>.
    /// </summary>
    public void Scan(string name, ulong session, uint segment, SessionEntry? entry, long length)
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
        FilesRead++;
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
                tally.Torn += length;
                files.Delete(session, segment);
                return;
            }
            if (start <= FileHeader.Size)
            {
                tally.Torn += length;
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
            tally.Damage.Add(new StoreDamage(path, 0, FileHeader.Size, $"segment header is {status}"));
            return;
        }
        if (start >= length)
        {
            if (start > length)
            {
                tally.Damage.Add(new StoreDamage(path, length, start - length, "segment shorter than the checkpoint says"));
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
                    tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, $"record of session {h.Session} in a segment of session {session}"));
                    return false;
                }
                return true;
            },
            Refused = (offset, h, why) => tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, why)),
            Applied = (_, h) =>
            {
                Records++;
                applied++;
                tally.NextLsn = Math.Max(tally.NextLsn, h.Lsn + 1);
                if (h.Type == RecordType.SessionDelete)
                {
                    DeletedInSegments.Add(session);
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
            tally.Torn += length - result.ValidEnd;
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
