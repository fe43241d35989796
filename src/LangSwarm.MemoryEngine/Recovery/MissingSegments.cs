using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>Step 2 of recovery, first part (FORMAT.md §8): segments the checkpoint names that the directory lost or holds short.</summary>
internal static class MissingSegments
{
    /// <summary>The segment files of a directory listing, by session and segment number, with their lengths.</summary>
    public static Dictionary<(ulong, uint), long> Present(IReadOnlyList<FileEntry> listing)
    {
        var present = new Dictionary<(ulong, uint), long>(listing.Count);
        foreach (var (name, length) in listing)
        {
            if (SegmentFiles.TryParseName(name, out var s, out var g))
            {
                present[(s, g)] = length;
            }
        }
        return present;
    }

    /// <summary>
    /// A segment the checkpoint knows but the directory lacks, or holds shorter than the checkpoint says (a
    /// checkpoint syncs what it names, so either is damage): its messages leave the index, reported, and an
    /// empty segment opening with the session's state takes its place so the session stays readable and
    /// writable. A delete in the log then finishes the job.
    /// </summary>
    public static List<(ulong Session, StoreDamage Damage)> Repair(SegmentFiles files, SessionIndex index, Dictionary<(ulong, uint), long> present)
    {
        var missing = new List<(ulong Session, StoreDamage Damage)>();
        long? lengthOf(ulong s, uint g) => present.TryGetValue((s, g), out var length) ? length : null;
        foreach (var outline in index.Outlines())
        {
            // Only a session with a segment missing or short is loaded (a pass over a large store loads none).
            var whole = true;
            foreach (var s in outline.Segments)
            {
                whole &= lengthOf(outline.Number, s.Segment) is { } l && l >= s.Length;
            }
            if (!whole && index.TryGet(outline.Number, out var entry))
            {
                Repair(files, entry, lengthOf, missing, index.Cipher);
            }
        }
        return missing;
    }

    /// <summary>
    /// The same for one session, with <paramref name="lengthOf"/> giving a segment file's length (null: no such
    /// file); what it repairs is added to <paramref name="missing"/>.
    /// </summary>
    public static void Repair(SegmentFiles files, SessionEntry entry, Func<ulong, uint, long?> lengthOf, List<(ulong Session, StoreDamage Damage)> missing, StoreCipher? cipher)
    {
        lock (entry.Lock)
        {
            for (var i = 0; i < entry.Segments.Count; i++)
            {
                var seg = entry.Segments[i];
                var length = lengthOf(entry.Number, seg.Segment);
                if (length is { } l && l >= seg.Length)
                {
                    continue;
                }
                // The new file opens with the session's state, so a scan from nothing still finds the session.
                var opening = OpeningRecord.Encode(entry.Number, entry.State, keepLastSequence: true, cipher);
                files.Create(entry.Number, seg.Segment);
                files.Write(entry.Number, seg.Segment, FileHeader.Size, opening);
                var lost = entry.ForgetSegment(seg.Segment, FileHeader.Size + opening.Length);
                var what = length is not null ? $"segment file holds {length} of the {seg.Length} bytes the checkpoint names" : "segment file missing";
                missing.Add((entry.Number, new StoreDamage(SegmentFiles.PathFor(entry.Number, seg.Segment), 0, seg.Length, $"{what}; {lost} message(s) of session '{entry.State.Metadata.SessionId}' dropped from the index, the segment restarted empty")));
            }
        }
    }
}
