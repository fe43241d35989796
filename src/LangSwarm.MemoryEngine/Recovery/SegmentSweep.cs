using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// What an open that read only the sessions its logs name leaves to do (FORMAT.md §8, the sweep): one listing of
/// <c>seg/</c> compared with the index, then each difference fixed. It finds the files a crash left behind (a
/// deleted session's, a compaction's set that never committed or one it superseded, a roll cut short), a named
/// segment longer than the index knows (a tail no surviving log covers: a power loss outside Strict), and a
/// named segment the directory lost or holds short (FORMAT.md §8 step 5). <see cref="Find"/> runs beside writes; <see cref="Fix"/> must
/// run while no write is between the log and the index and no compaction runs, and checks each finding again.
/// </summary>
internal sealed class SegmentSweep(IFileSystem fs, SegmentFiles files, SessionIndex index, ulong recoveredNextSession)
{
    /// <summary>A segment file the listing shows differently from the index, with its length then.</summary>
    public readonly record struct Finding(ulong Session, uint Segment, long ListedLength);

    /// <summary>Files in <c>seg/</c> and <c>pack/</c> that are not the store's (reported, left alone).</summary>
    public List<string> Foreign { get; } = [];

    /// <summary>
    /// Deletes the packs the index does not name (written by a compaction whose commit a crash cut off, or left
    /// with nothing live by one that committed) and the temporary files of packs cut short. Packs are made only
    /// by a vacuum, which waits for the sweep; returns the files deleted.
    /// </summary>
    public int SweepPacks(PackFiles packs)
    {
        var deleted = 0;
        foreach (var (name, _) in fs.ListFiles(PackFiles.Directory))
        {
            if (PackFiles.IsTempName(name))
            {
                packs.DeleteTemp(name);
                deleted++;
            }
            else if (!PackFiles.TryParseName(name, out var pack))
            {
                Foreign.Add($"{PackFiles.Directory}/{name}");
            }
            else if (!index.Packs.Holds(pack))
            {
                packs.Delete(pack);
                deleted++;
            }
        }
        if (deleted > 0)
        {
            packs.SyncDirectory();
        }
        return deleted;
    }

    /// <summary>Lists the segments and returns every one that differs from the index, and every named one the listing lacks.</summary>
    public List<Finding> Find(CancellationToken cancellationToken)
    {
        var listing = fs.ListFiles(SegmentFiles.Directory);
        var present = MissingSegments.Present(listing);
        var findings = new List<Finding>();
        var sessions = new Dictionary<ulong, SessionOutline>();
        foreach (var o in index.Outlines())
        {
            sessions[o.Number] = o;
        }
        foreach (var (name, _) in listing)
        {
            if (!SegmentFiles.TryParseName(name, out _, out _))
            {
                Foreign.Add($"{SegmentFiles.Directory}/{name}");
            }
        }
        foreach (var ((session, segment), length) in present)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!sessions.TryGetValue(session, out var outline) || Named(outline.Segments, segment) is not { } known || known != length)
            {
                // A length below the index's may be appends still in the process's buffer: Fix checks again.
                findings.Add(new Finding(session, segment, length));
            }
        }
        foreach (var o in sessions.Values)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var s in o.Segments)
            {
                if (!present.ContainsKey((o.Number, s.Segment)))
                {
                    findings.Add(new Finding(o.Number, s.Segment, -1));
                }
            }
        }
        return findings;
    }

    /// <summary>
    /// Fixes one finding as it stands now: a file of no session, or of a session that does not name it, is
    /// deleted; a named file longer than the index knows is cut to the index's length; a named file missing or
    /// short is restarted empty with the session's state (its messages leave the index; reported in
    /// <paramref name="damage"/>). Returns the bytes cut or deleted (a deleted file counts whole), 0 when nothing changed.
    /// </summary>
    public long Fix(Finding finding, List<StoreDamage> damage)
    {
        var (session, segment, _) = finding;
        var path = SegmentFiles.PathFor(session, segment);
        var exists = fs.FileExists(path);
        if (!index.TryGet(session, out var entry) || entry.Removed)
        {
            // A delete's leftover. A number recovery did not see is left alone: the writer may reuse it, and
            // creating its first segment starts the file over.
            return exists && session < recoveredNextSession ? Delete(session, segment) : 0;
        }
        if (Named(entry, segment) is not { } known)
        {
            // Below the session's segments, a set a committed compaction superseded; far above them, a
            // compaction's set that never committed. Just above the last one, a roll cut short, which the next
            // roll starts over.
            var (last, packedOnly) = LastNamed(entry);
            // A packed session names no segment: its next one is where a write after the pack starts.
            var stray = packedOnly ? segment <= last || segment >= last + OpeningRecord.RewriteSegmentGap
                : segment < last || segment >= last + OpeningRecord.RewriteSegmentGap;
            return exists && stray ? Delete(session, segment) : 0;
        }
        var length = exists ? files.Length(session, segment) : (long?)null;
        if (length is { } l && l > known)
        {
            files.Truncate(session, segment, known);
            return l - known;
        }
        if (length is null || length < known)
        {
            var missing = new List<(ulong Session, StoreDamage Damage)>();
            MissingSegments.Repair(files, entry, (s, g) => s == session && g == segment ? length : long.MaxValue, missing, index.Cipher);
            foreach (var (_, d) in missing)
            {
                damage.Add(d);
            }
        }
        return 0;
    }

    private long Delete(ulong session, uint segment)
    {
        var length = files.Length(session, segment);
        files.Delete(session, segment);
        return Math.Max(1, length); // at least 1: a file went, even one holding only its header
    }

    private static (long Last, bool PackedOnly) LastNamed(SessionEntry entry)
    {
        lock (entry.Lock)
        {
            return entry.Segments.Count > 0 ? (entry.Segments[^1].Segment, false) : ((long)entry.NextOwnSegment - 1, entry.Pack is not null);
        }
    }

    private static long? Named(SessionEntry entry, uint segment)
    {
        lock (entry.Lock)
        {
            return Named(entry.Segments, segment);
        }
    }

    private static long? Named(IEnumerable<SegmentExtent> segments, uint segment)
    {
        foreach (var s in segments)
        {
            if (s.Segment == segment)
            {
                return s.Length;
            }
        }
        return null;
    }
}
