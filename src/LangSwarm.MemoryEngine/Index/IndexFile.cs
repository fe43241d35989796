using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index;

/// <summary>
/// The index file (<c>index.btree</c>): the engine's index as a copy-on-write B+tree, brought up to date by
/// each checkpoint with only what changed (<see cref="IndexDelta"/>). Open reads the session records; message
/// entries and summaries are read per session on first use. The segments stay the truth: a damaged index
/// file is set aside and rebuilt from them.
/// </summary>
internal sealed class IndexFile : IDisposable
{
    public const string FileName = "index.btree";

    private readonly BPlusTree _tree;

    // The key layout the committed tree is in (0: a file from before the layout marker, or a new empty file).
    private uint _layout;

    private IndexFile(BPlusTree tree)
    {
        _tree = tree;
        _layout = ReadLayout(tree);
        if (_layout >= 3 && tree.TryGet(IndexKeys.TotalsKey, out var totals))
        {
            Totals = StoreTotals.Decode(totals);
        }
        else if (_layout >= 3)
        {
            throw new InvalidDataException("Index file of layout 3 without its totals key.");
        }
    }

    /// <summary>The store's totals as of the last commit (zero for a file before its first checkpoint).</summary>
    public StoreTotals Totals { get; private set; }

    /// <summary>Why a meta page was passed over at open: the file may be at its previous commit.</summary>
    public string? MetaProblem => _tree.MetaProblem;

    /// <summary>True once a checkpoint has been committed to the file.</summary>
    public bool HasCheckpoint => _tree.Meta.TxId != 0;

    /// <summary>True when the committed tree holds no key at all (a new store before its first checkpoint).</summary>
    public bool IsEmpty => _tree.Count == 0;

    /// <summary>Records below this LSN are in the file.</summary>
    public ulong CoveredLsn => _tree.Meta.User0;

    public ulong NextLsn => _tree.Meta.User1;

    public ulong NextSession => _tree.Meta.User2;

    public long FileBytes => _tree.FileBytes;

    public int FreePages => _tree.FreePages;

    /// <summary>
    /// Opens the file; throws <see cref="InvalidDataException"/> when it is damaged, and
    /// <see cref="StoreVersionException"/> when a newer build wrote its keys.
    /// </summary>
    public static IndexFile Open(IFileSystem fs, long cacheBytes = PageFile.DefaultCacheBytes, StoreCipher? cipher = null)
    {
        var tree = BPlusTree.Open(fs, FileName, cacheBytes, cipher);
        try
        {
            return new IndexFile(tree);
        }
        catch
        {
            tree.Dispose();
            throw;
        }
    }

    private static uint ReadLayout(BPlusTree tree)
    {
        if (!tree.TryGet(IndexKeys.LayoutKey, out var value))
        {
            return 0;
        }
        if (value.Length != 4)
        {
            throw new InvalidDataException($"Index layout marker of {value.Length} bytes (4 expected).");
        }
        var layout = BinaryPrimitives.ReadUInt32BigEndian(value);
        return layout <= IndexKeys.CurrentLayout
            ? layout
            : throw new StoreVersionException($"The index file's key layout is {layout}; this build reads up to {IndexKeys.CurrentLayout}. Open the store with a newer build.");
    }

    /// <summary>Replaces a damaged file with an empty one.</summary>
    public static IndexFile Recreate(IFileSystem fs, long cacheBytes = PageFile.DefaultCacheBytes, StoreCipher? cipher = null)
    {
        fs.Delete(FileName);
        fs.Delete(FileName + ".compact");
        return Open(fs, cacheBytes, cipher);
    }

    /// <summary>
    /// Brings a file of an older key layout (FORMAT.md §6.3) to the current one in one commit at open: layout 1
    /// gets its user, status and role keys rewritten, and both older layouts get the totals key (the one pass
    /// over every session record such a store ever makes).
    /// </summary>
    public void UpgradeLayout(ISessionContentSource source)
    {
        if (_layout >= 3 || !HasCheckpoint)
        {
            // Layouts 4 and 5 only add the pack keys and new session record versions, which an older file has
            // none of, and each record says its version: the first commit marks the file.
            return;
        }
        var sessions = new List<SessionEntry>();
        var totals = StoreTotals.Zero;
        var (from, to) = IndexKeys.Space(IndexKeys.Session);
        _tree.Scan(from, to, (k, v) =>
        {
            var e = ReadSession(IndexKeys.NumberOf(k), v, source);
            totals += e.Saved.Counted;
            sessions.Add(e);
            return true;
        });
        try
        {
            if (_layout < 2)
            {
                IndexLayoutUpgrade.Rewrite(_tree, sessions);
            }
            _tree.Put(IndexKeys.TotalsKey, totals.Encode());
            foreach (var e in sessions)
            {
                if (e.Saved.Owing)
                {
                    _tree.Put(IndexKeys.ForOwing(e.Number), []);
                }
            }
            MarkLayout();
            _tree.Commit(CoveredLsn, NextLsn, NextSession);
            Totals = totals;
        }
        catch
        {
            _layout = 0;
            _tree.Rollback();
            throw;
        }
    }

    /// <summary>The number of the session with id <paramref name="sessionId"/> in the committed file.</summary>
    public bool TryFindSession(string sessionId, out ulong number)
    {
        number = 0;
        if (!_tree.TryGet(IndexKeys.ForSessionId(sessionId), out var value))
        {
            return false;
        }
        number = value.Length == 8 ? BinaryPrimitives.ReadUInt64BigEndian(value) : throw new InvalidDataException($"Index id key of session '{sessionId}' holds {value.Length} bytes (8 expected).");
        return true;
    }

    /// <summary>The committed session record of <paramref name="number"/>, as an entry whose content loads from <paramref name="source"/>.</summary>
    public bool TryLoadSession(ulong number, ISessionContentSource source, out SessionEntry entry)
    {
        entry = null!;
        if (!_tree.TryGet(IndexKeys.ForSession(number), out var value))
        {
            return false;
        }
        entry = ReadSession(number, value, source);
        return true;
    }

    private static SessionEntry ReadSession(ulong number, byte[] value, ISessionContentSource source)
    {
        var e = SessionRecord.Read(number, value, source, out var messages, out var summaries);
        var m = e.State.Metadata;
        e.Saved = new SavedImage(e.Version, e.State.LastSequence, messages, summaries, m.UpdatedAt.UtcTicks, m.UserId, m.Status, StoreTotals.Zero, SavedImage.Owes(e.State));
        e.Saved = e.Saved with { Counted = StoreTotals.Of(e) };
        e.RecordBytes = value.Length;
        return e;
    }

    /// <summary>Every committed session's outline, in number order (a pass over the session records, no metadata decoded).</summary>
    public List<SessionOutline> Outlines()
    {
        var (from, to) = IndexKeys.Space(IndexKeys.Session);
        var outlines = new List<SessionOutline>();
        _tree.Scan(from, to, (k, v) =>
        {
            outlines.Add(SessionRecord.ReadOutline(IndexKeys.NumberOf(k), v));
            return true;
        });
        return outlines;
    }

    /// <summary>Numbers of the sessions the committed file files as owing an automatic summary or eviction.</summary>
    public List<ulong> Owing()
    {
        var (from, to) = IndexKeys.Space(IndexKeys.Owing);
        var numbers = new List<ulong>();
        _tree.Scan(from, to, (k, _) =>
        {
            numbers.Add(IndexKeys.NumberOf(k));
            return true;
        });
        return numbers;
    }

    /// <summary>
    /// The last segment the committed file names for a session (below its next one for a packed session without
    /// one), or null when it holds no such session.
    /// </summary>
    public long? LastSegmentOf(ulong number) =>
        _tree.TryGet(IndexKeys.ForSession(number), out var value) ? SessionRecord.ReadOutline(number, value).LastSegment : null;

    /// <summary>Every pack the committed file holds (key space W).</summary>
    public List<(uint Number, PackImage Image)> Packs()
    {
        var (from, to) = IndexKeys.Space(IndexKeys.Packs);
        var packs = new List<(uint, PackImage)>();
        _tree.Scan(from, to, (k, v) =>
        {
            var n = IndexKeys.PackOf(k);
            packs.Add((n, PackImage.Read(n, v)));
            return true;
        });
        return packs;
    }

    private void MarkLayout()
    {
        if (_layout != IndexKeys.CurrentLayout)
        {
            var value = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(value, IndexKeys.CurrentLayout);
            _tree.Put(IndexKeys.LayoutKey, value);
            _layout = IndexKeys.CurrentLayout;
        }
    }

    /// <summary>A session's message entries; throws <see cref="InvalidDataException"/> when the file is damaged there.</summary>
    public List<MessageEntry> LoadMessages(ulong session)
    {
        var list = new List<MessageEntry>();
        _tree.Scan(IndexKeys.RangeStart(IndexKeys.Message, session), IndexKeys.RangeEnd(IndexKeys.Message, session), (k, v) =>
        {
            list.Add(SessionRecord.DecodeMessage(IndexKeys.SequenceOf(k), v));
            return true;
        });
        return list;
    }

    /// <summary>A session's summaries; throws <see cref="InvalidDataException"/> when the file is damaged there.</summary>
    public List<ConversationSummary> LoadSummaries(ulong session, string sessionId)
    {
        var list = new List<ConversationSummary>();
        _tree.Scan(IndexKeys.RangeStart(IndexKeys.Summary, session), IndexKeys.RangeEnd(IndexKeys.Summary, session), (_, v) =>
        {
            list.Add(SummaryCodec.Read(v, sessionId));
            return true;
        });
        return list;
    }

    /// <summary>
    /// Writes a delta and commits it with the LSN it covers and the store's <paramref name="totals"/> after it:
    /// the commit is the checkpoint's switch point.
    /// </summary>
    public void Save(IndexDelta delta, ulong covered, ulong nextLsn, ulong nextSession, StoreTotals totals)
    {
        try
        {
            IndexDeltaWriter.Write(_tree, delta);
            _tree.Put(IndexKeys.TotalsKey, totals.Encode());
            var layout = _layout;
            MarkLayout();
            try
            {
                _tree.Commit(covered, nextLsn, nextSession);
            }
            catch
            {
                _layout = layout;
                throw;
            }
            Totals = totals;
        }
        catch
        {
            _tree.Rollback();
            throw;
        }
    }

    /// <summary>
    /// Visits the committed listing keys in listing order (newest activity first): a user's (<c>U</c>), else a
    /// status's (<c>A</c>, backwards), else all (<c>T</c>, backwards), as (updated ticks, session number), until
    /// <paramref name="visit"/> returns false. The visitor runs under the tree's read lock: no other lock in it.
    /// </summary>
    public void VisitNewestFirst(string? user, SessionStatus? status, Func<long, ulong, bool> visit)
    {
        if (user is not null)
        {
            var (from, to) = IndexKeys.UserRange(user);
            _tree.Scan(from, to, (k, _) =>
            {
                var (ticks, number) = IndexKeys.ListingOfUser(k);
                return visit(ticks, number);
            });
            return;
        }
        var (f, t) = status is { } st ? IndexKeys.StatusRange(st) : IndexKeys.TimeRange();
        _tree.ScanReverse(f, t, (k, _) =>
        {
            var (ticks, number) = IndexKeys.ListingOfTime(k);
            return visit(ticks, number);
        });
    }

    /// <summary>The time a role key of layout 5 gives: none (below every valid time).</summary>
    public const long UnknownTime = long.MinValue;

    /// <summary>
    /// Visits a session's committed messages of <paramref name="role"/> with sequences in [<paramref name="from"/>,
    /// <paramref name="to"/>), as (sequence, time ticks), ascending or newest first, until <paramref name="visit"/>
    /// returns false. The time is <see cref="UnknownTime"/> for keys written from layout 5 on, which hold none
    /// (FORMAT.md §6.3); keys of earlier layouts hold it. The visitor runs under the tree's read lock.
    /// </summary>
    public void VisitRole(ulong number, MessageRole role, long from, long to, bool newestFirst, Func<long, long, bool> visit)
    {
        var (f, t) = IndexKeys.RoleRange(number, role, from, to);
        Func<byte[], byte[], bool> each = (k, v) => v.Length switch
        {
            0 => visit(IndexKeys.SequenceOfRole(k), UnknownTime),
            8 => visit(IndexKeys.SequenceOfRole(k), BinaryPrimitives.ReadInt64LittleEndian(v)),
            _ => throw new InvalidDataException($"Role key value of {v.Length} bytes (0 or 8 expected)."),
        };
        if (newestFirst)
        {
            _tree.ScanReverse(f, t, each);
        }
        else
        {
            _tree.Scan(f, t, each);
        }
    }

    /// <summary>
    /// Visits a session's committed message entries with sequences in [<paramref name="from"/>, <paramref name="to"/>],
    /// ascending or newest first, until <paramref name="visit"/> returns false: a range read that costs the entries
    /// it visits, not the session's length. The visitor runs under the tree's read lock; throws
    /// <see cref="InvalidDataException"/> when the file is damaged there.
    /// </summary>
    public void VisitMessages(ulong number, long from, long to, bool newestFirst, Func<MessageEntry, bool> visit)
    {
        if (to < from || to < 0)
        {
            return;
        }
        var f = IndexKeys.ForMessage(number, from);
        var t = to == long.MaxValue ? IndexKeys.RangeEnd(IndexKeys.Message, number) : IndexKeys.ForMessage(number, to + 1);
        Func<byte[], byte[], bool> each = (k, v) => visit(SessionRecord.DecodeMessage(IndexKeys.SequenceOf(k), v));
        if (newestFirst)
        {
            _tree.ScanReverse(f, t, each);
        }
        else
        {
            _tree.Scan(f, t, each);
        }
    }

    /// <summary>The committed message entry of a session's <paramref name="sequence"/>, if the file holds one.</summary>
    public bool TryGetMessage(ulong number, long sequence, out MessageEntry entry)
    {
        entry = default;
        if (!_tree.TryGet(IndexKeys.ForMessage(number, sequence), out var value))
        {
            return false;
        }
        entry = SessionRecord.DecodeMessage(sequence, value);
        return true;
    }

    /// <summary>Visits the committed listing keys with activity before <paramref name="cutoffTicks"/>, oldest first (of one status, or all).</summary>
    public void VisitOlderThan(long cutoffTicks, SessionStatus? status, Func<long, ulong, bool> visit)
    {
        var (from, to) = status is { } st ? IndexKeys.StatusRange(st, cutoffTicks) : IndexKeys.TimeRange(cutoffTicks);
        _tree.Scan(from, to, (k, _) =>
        {
            var (ticks, number) = IndexKeys.ListingOfTime(k);
            return visit(ticks, number);
        });
    }

    /// <summary>
    /// Repacks the file densely when at least <paramref name="minFreeFraction"/> of its pages, and at least
    /// <paramref name="minFreeBytes"/>, are free; returns bytes reclaimed. Below that, later checkpoints reuse
    /// the free pages anyway, and a repack would only cost fsyncs that foreground writes feel.
    /// </summary>
    public long CompactIfWorthIt(double minFreeFraction, long minFreeBytes)
    {
        var pages = _tree.FileBytes / Format.BTreePageHeader.PageSize;
        var free = _tree.FreePages;
        return pages > 8 && free >= pages * minFreeFraction && free * (long)Format.BTreePageHeader.PageSize >= minFreeBytes ? _tree.Compact() : 0;
    }

    /// <summary>Rewrites every page now (a rekey: each comes out sealed with the current key); returns the bytes the file shrank by.</summary>
    public long Compact() => _tree.Compact();

    /// <summary>Checks the file's structure, and that every session is filed under its id, time, status and user.</summary>
    public List<string> Check() => IndexFileCheck.Run(_tree);

    public void Dispose() => _tree.Dispose();
}
