using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Rebuilds an index from nothing but the segment files and compares it with the live index, then walks the
/// index file: the check behind <c>lsmem verify</c> and the crash properties' "index agrees with a full scan".
/// </summary>
internal static class StoreVerifier
{
    /// <summary>Checks every segment and the index file; the caller holds the store exclusively (no write, checkpoint or vacuum runs).</summary>
    public static VerifyReport Verify(IFileSystem fs, SegmentFiles files, PackFiles packs, SessionIndex live, IndexFile indexFile, CancellationToken cancellationToken)
    {
        files.Deferred.SettleAll(); // the files must hold what the index knows before they are compared
        var problems = new List<string>();
        var rebuilt = new SessionIndex(cipher: live.Cipher);
        long records = 0, bytes = 0;
        var segments = 0;
        // Packs first, as a full recovery reads them; groups the index released but has not erased yet are skipped.
        var owed = new HashSet<(uint, long)>();
        var packCount = 0;
        foreach (var (number, length, _, erase) in live.Packs.List())
        {
            packCount++;
            bytes += length;
            foreach (var (offset, _) in erase)
            {
                owed.Add((number, offset));
            }
        }
        var tally = new RecoveryTally();
        var packScan = new PackScanner(fs, packs, rebuilt, tally, owed);
        packScan.ScanAll();
        records += packScan.Records;
        foreach (var d in tally.Damage)
        {
            problems.Add($"{d.File} @ {d.Offset}: {d.Reason}");
        }
        foreach (var f in tally.Foreign)
        {
            problems.Add($"foreign file {f}");
        }
        foreach (var (name, _) in fs.ListFiles(PackFiles.Directory))
        {
            if (PackFiles.TryParseName(name, out var pack) && !live.Packs.Holds(pack))
            {
                problems.Add($"{PackFiles.Directory}/{name}: a pack the index does not name");
            }
        }
        foreach (var (name, _) in fs.ListFiles(SegmentFiles.Directory))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!SegmentFiles.TryParseName(name, out var session, out var segment))
            {
                problems.Add($"foreign file {SegmentFiles.Directory}/{name}");
                continue;
            }
            segments++;
            var length = files.Length(session, segment);
            var head = new byte[FileHeader.Size];
            var read = files.Read(session, segment, 0, head);
            bytes += length;
            if (read != FileHeader.Size || FileHeader.TryRead(head, FileKind.Segment, out var header) != FileHeaderStatus.Ok || header.Owner != session || header.Sequence != segment)
            {
                problems.Add($"{name}: bad segment header");
                continue;
            }
            var result = SegmentReplayer.Replay(files, session, segment, FileHeader.Size, length, rebuilt, new SegmentReplayer.Hooks
            {
                Admit = (long _, in RecordHeader _, ReadOnlySpan<byte> _) =>
                {
                    records++;
                    return true;
                },
                Refused = (offset, _, why) => problems.Add($"{name} @ {offset}: {why}"),
            }, resync: true);
            foreach (var (offset, len) in result.Damage)
            {
                problems.Add($"{name} @ {offset}: {len} damaged bytes (checksum or framing)");
            }
            if (result.ValidEnd != length)
            {
                problems.Add($"{name}: {length - result.ValidEnd} bytes of torn tail");
            }
        }
        Compare(live, rebuilt, problems);
        problems.AddRange(indexFile.Check());
        return new VerifyReport(segments, records, bytes, problems) { Packs = packCount };
    }

    private static void Compare(SessionIndex live, SessionIndex rebuilt, List<string> problems)
    {
        var liveNumbers = live.Outlines().Select(o => o.Number).ToHashSet();
        foreach (var r in rebuilt.Resident())
        {
            if (!liveNumbers.Remove(r.Number) || !live.TryGet(r.Number, out var l))
            {
                problems.Add($"session {r.Number} ('{r.State.Metadata.SessionId}') is in the segments but not in the index");
                continue;
            }
            lock (l.Lock)
            {
                var id = l.State.Metadata.SessionId;
                var (indexed, scanned) = (l.LoadMessages(), r.LoadMessages());
                if (!indexed.Select(m => (m.Sequence, m.Offset, m.Tokens)).SequenceEqual(scanned.Select(m => (m.Sequence, m.Offset, m.Tokens))))
                {
                    problems.Add($"session '{id}': index has {indexed.Count} messages, segments have {scanned.Count}");
                }
                if (l.State.LastSequence != r.State.LastSequence || l.State.LiveMessages != r.State.LiveMessages || l.State.LiveTokens != r.State.LiveTokens
                    || l.State.Metadata.UpdatedAt != r.State.Metadata.UpdatedAt || l.State.Metadata.Status != r.State.Metadata.Status)
                {
                    problems.Add($"session '{id}': index state differs from the segments");
                }
                var (indexedSummaries, scannedSummaries) = (l.LoadSummaries().Count, r.LoadSummaries().Count);
                if (indexedSummaries != scannedSummaries)
                {
                    problems.Add($"session '{id}': index has {indexedSummaries} summaries, segments have {scannedSummaries}");
                }
            }
        }
        foreach (var number in liveNumbers)
        {
            var id = live.TryGet(number, out var l) ? l.State.Metadata.SessionId : $"#{number}";
            problems.Add($"session '{id}' is in the index but has no segment");
        }
    }
}
