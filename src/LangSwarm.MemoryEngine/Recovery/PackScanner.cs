using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Step 2 of a full recovery for the packs (FORMAT.md §8): every pack in number order, before any segment, each
/// group applied from its opening record on. A group is a whole snapshot of its session, so a later group of a
/// session replaces what an earlier pack gave (that earlier group is then owed an erasure). Zeros where records
/// would be are erased groups, not damage.
/// </summary>
internal sealed class PackScanner(IFileSystem fs, PackFiles packs, SessionIndex index, RecoveryTally tally, IReadOnlySet<(uint Pack, long Offset)>? owedErasure = null)
{
    private readonly HashSet<ulong> _grouped = [];

    /// <summary>Records applied from packs.</summary>
    public long Records { get; private set; }

    /// <summary>Packs read.</summary>
    public int FilesRead { get; private set; }

    /// <summary>Sessions given a pack group.</summary>
    public IReadOnlyCollection<ulong> Grouped => _grouped;

    /// <summary>Scans every pack; deletes the temporary files of packs a crash cut short.</summary>
    public void ScanAll()
    {
        foreach (var (name, length) in fs.ListFiles(PackFiles.Directory))
        {
            if (PackFiles.IsTempName(name))
            {
                packs.DeleteTemp(name);
                continue;
            }
            if (!PackFiles.TryParseName(name, out var pack))
            {
                tally.Foreign.Add($"{PackFiles.Directory}/{name}");
                continue;
            }
            index.Packs.Seen(pack);
            Scan(pack, length);
        }
    }

    private void Scan(uint number, long length)
    {
        var path = PackFiles.PathFor(number);
        FilesRead++;
        var head = new byte[FileHeader.Size];
        FileHeader header = default;
        var status = length >= FileHeader.Size && packs.Read(number, 0, head) == FileHeader.Size
            ? FileHeader.TryRead(head, FileKind.Pack, out header)
            : FileHeaderStatus.Torn;
        if (status == FileHeaderStatus.NewerVersion)
        {
            throw new StoreVersionException($"Pack '{path}' is format version {header.Version}; this build reads up to {FileHeader.CurrentVersion}.");
        }
        if (status != FileHeaderStatus.Ok || header.Owner != number)
        {
            // Packs are renamed into place only once whole and durable: a bad header is damage, not a cut creation.
            tally.Damage.Add(new StoreDamage(path, 0, Math.Min(length, FileHeader.Size), $"pack header is {status}; its records are left unread"));
            return;
        }
        index.Packs.Register(number, length, filling: true);
        var location = PackFiles.Location(number);
        (ulong Session, long Start, long End)? group = null;
        var skipping = false;
        void Close()
        {
            if (group is { } g && index.TryGet(g.Session, out var entry))
            {
                var pg = new PackGroup(number, g.Start, g.End - g.Start, 0);
                lock (entry.Lock)
                {
                    entry.Pack = pg;
                }
                index.Packs.Join(pg);
                _grouped.Add(g.Session);
            }
            group = null;
        }
        var result = SegmentReplayer.Replay((at, buffer) => packs.Read(number, at, buffer), location, FileHeader.Size, length, index, new SegmentReplayer.Hooks
        {
            Admit = (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
            {
                if (h.Type == RecordType.SessionState && h.Lsn == 0)
                {
                    Close();
                    // A group the index released and has not erased yet (verify beside a store that owes it).
                    skipping = owedErasure?.Contains((number, offset)) == true;
                    if (skipping)
                    {
                        return false;
                    }
                    if (index.TryGet(h.Session, out var held))
                    {
                        // An earlier pack's group of the same session: this one is newer and whole.
                        index.Remove(held);
                    }
                    group = (h.Session, offset, offset + h.TotalLength);
                    return true;
                }
                if (skipping)
                {
                    return false;
                }
                if (group is not { } g || g.Session != h.Session)
                {
                    tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, $"record of session {h.Session} outside its group"));
                    return false;
                }
                group = g with { End = offset + h.TotalLength };
                return true;
            },
            Refused = (offset, h, why) => tally.Damage.Add(new StoreDamage(path, offset, h.TotalLength, why)),
            Applied = (_, h) =>
            {
                Records++;
                tally.NextLsn = Math.Max(tally.NextLsn, h.Lsn + 1);
                tally.NextSession = Math.Max(tally.NextSession, h.Session + 1);
            },
        }, resync: true);
        Close();
        index.Packs.Filled(number);
        foreach (var (offset, span) in result.Damage)
        {
            ReportUnlessErased(number, offset, span);
        }
        if (result.ValidEnd < length)
        {
            ReportUnlessErased(number, result.ValidEnd, length - result.ValidEnd);
        }
    }

    /// <summary>After the segments: a packed session without own segments takes its next number past any it had.</summary>
    public void SetNextSegments(IReadOnlyDictionary<ulong, uint> highestListed)
    {
        foreach (var number in _grouped)
        {
            if (!index.TryGet(number, out var entry))
            {
                continue;
            }
            lock (entry.Lock)
            {
                if (entry.Segments.Count == 0 && entry.Pack is { } g)
                {
                    entry.Pack = g with { NextSegment = highestListed.TryGetValue(number, out var high) ? high + 1 : 0 };
                }
            }
        }
    }

    private void ReportUnlessErased(uint number, long offset, long length)
    {
        var buffer = new byte[(int)Math.Min(length, 64 * 1024)];
        for (long done = 0; done < length;)
        {
            var n = packs.Read(number, offset + done, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - done)));
            if (n <= 0 || buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
            {
                tally.Damage.Add(new StoreDamage(PackFiles.PathFor(number), offset, length, "damaged bytes in a pack (checksum or framing)"));
                return;
            }
            done += n;
        }
    }
}
