using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.Memory;
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

    private static readonly byte[] Empty = [];

    private static readonly MessageRole[] Roles = Enum.GetValues<MessageRole>();

    private readonly BPlusTree _tree;

    // The key layout the committed tree is in (0: a file from before the layout marker, or a new empty file).
    private uint _layout;

    private IndexFile(BPlusTree tree)
    {
        _tree = tree;
        _layout = ReadLayout(tree);
    }

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
    public static IndexFile Open(IFileSystem fs)
    {
        var tree = BPlusTree.Open(fs, FileName);
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
    public static IndexFile Recreate(IFileSystem fs)
    {
        fs.Delete(FileName);
        fs.Delete(FileName + ".compact");
        return Open(fs);
    }

    /// <summary>Every session record, for the index at open (content left to load from <paramref name="source"/> on first use).</summary>
    public List<SessionEntry> LoadSessions(ISessionContentSource source)
    {
        var (from, to) = IndexKeys.Space(IndexKeys.Session);
        var sessions = new List<SessionEntry>((int)Math.Min(_tree.Count, 1 << 20));
        _tree.Scan(from, to, (k, v) =>
        {
            var e = SessionRecord.Read(IndexKeys.NumberOf(k), v, source, out var messages, out var summaries);
            var m = e.State.Metadata;
            e.Saved = new SavedImage(e.Version, e.State.LastSequence, messages, summaries, m.UpdatedAt.UtcTicks, m.UserId, m.Status);
            sessions.Add(e);
            return true;
        });
        if (_layout < IndexKeys.CurrentLayout && HasCheckpoint)
        {
            try
            {
                IndexLayoutUpgrade.Rewrite(_tree, sessions);
                MarkLayout();
                _tree.Commit(CoveredLsn, NextLsn, NextSession);
            }
            catch
            {
                _layout = 0;
                _tree.Rollback();
                throw;
            }
        }
        return sessions;
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

    /// <summary>Writes a delta and commits it with the LSN it covers: the commit is the checkpoint's switch point.</summary>
    public void Save(IndexDelta delta, ulong covered, ulong nextLsn, ulong nextSession)
    {
        try
        {
            foreach (var (number, id, saved) in delta.Removed)
            {
                if (!saved.InFile)
                {
                    continue;
                }
                _tree.Delete(IndexKeys.ForSession(number));
                _tree.Delete(IndexKeys.ForSessionId(id));
                Unfile(saved, number);
                _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Message, number), IndexKeys.RangeEnd(IndexKeys.Message, number));
                _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Role, number), IndexKeys.RangeEnd(IndexKeys.Role, number));
                _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Summary, number), IndexKeys.RangeEnd(IndexKeys.Summary, number));
            }
            var scratch = new ArrayBufferWriter<byte>(256);
            foreach (var s in delta.Saves)
            {
                Write(s, scratch);
            }
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
        }
        catch
        {
            _tree.Rollback();
            throw;
        }
    }

    private void Write(SessionSave s, ArrayBufferWriter<byte> scratch)
    {
        var n = s.Number;
        _tree.Put(IndexKeys.ForSession(n), s.Record);
        if (!s.Before.InFile)
        {
            _tree.Put(IndexKeys.ForSessionId(s.SessionId), IndexKeys.ForSession(n).AsSpan(1));
        }
        if (!s.Before.InFile || s.Before.Listing != s.After.Listing)
        {
            if (s.Before.InFile)
            {
                Unfile(s.Before, n);
            }
            File(s.After, n);
        }

        if (s.RewriteMessages)
        {
            // Compaction keeps the sequences and moves the records: overwrite in place, and delete only the
            // keys that are gone (no delete-then-reinsert churn of the whole range).
            var keep = new HashSet<long>(s.Messages.Count);
            foreach (var m in s.Messages)
            {
                keep.Add(m.Sequence);
            }
            var gone = new List<(byte[] Key, MessageRole Role)>();
            _tree.ScanTransaction(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.RangeEnd(IndexKeys.Message, n), (k, v) =>
            {
                var sequence = IndexKeys.SequenceOf(k);
                if (!keep.Contains(sequence))
                {
                    gone.Add((k, (MessageRole)SessionRecord.DecodeMessage(sequence, v).Role));
                }
                return true;
            });
            foreach (var (k, role) in gone)
            {
                _tree.Delete(k);
                _tree.Delete(IndexKeys.ForRole(n, role, IndexKeys.SequenceOf(k)));
            }
        }
        else if (s.CutBelow != long.MinValue)
        {
            _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.ForMessage(n, s.CutBelow == long.MaxValue ? long.MaxValue : s.CutBelow));
            foreach (var role in Roles)
            {
                var (from, to) = IndexKeys.RoleRange(n, role, 0, s.CutBelow);
                _tree.DeleteRange(from, to);
            }
        }
        var time = new byte[8];
        foreach (var m in s.Messages)
        {
            _tree.Put(IndexKeys.ForMessage(n, m.Sequence), SessionRecord.EncodeMessage(m));
            BinaryPrimitives.WriteInt64LittleEndian(time, m.TimeTicks);
            _tree.Put(IndexKeys.ForRole(n, (MessageRole)m.Role, m.Sequence), time);
        }

        if (s.RewriteSummaries)
        {
            _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Summary, n), IndexKeys.RangeEnd(IndexKeys.Summary, n));
        }
        var position = s.RewriteSummaries ? 0 : s.Before.Summaries;
        foreach (var summary in s.Summaries)
        {
            scratch.Clear();
            SummaryCodec.Write(scratch, summary);
            _tree.Put(IndexKeys.ForSummary(n, position++), scratch.WrittenSpan);
        }
    }

    private void File(SavedImage saved, ulong number)
    {
        _tree.Put(IndexKeys.ForTime(saved.UpdatedTicks, number), Empty);
        _tree.Put(IndexKeys.ForStatus(saved.Status, saved.UpdatedTicks, number), Empty);
        if (saved.User is { } user)
        {
            _tree.Put(IndexKeys.ForUser(user, saved.UpdatedTicks, number), Empty);
        }
    }

    private void Unfile(SavedImage saved, ulong number)
    {
        _tree.Delete(IndexKeys.ForTime(saved.UpdatedTicks, number));
        _tree.Delete(IndexKeys.ForStatus(saved.Status, saved.UpdatedTicks, number));
        if (saved.User is { } user)
        {
            _tree.Delete(IndexKeys.ForUser(user, saved.UpdatedTicks, number));
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

    /// <summary>
    /// Visits a session's committed messages of <paramref name="role"/> with sequences in [<paramref name="from"/>,
    /// <paramref name="to"/>), as (sequence, time ticks), ascending or newest first, until <paramref name="visit"/>
    /// returns false. The visitor runs under the tree's read lock.
    /// </summary>
    public void VisitRole(ulong number, MessageRole role, long from, long to, bool newestFirst, Func<long, long, bool> visit)
    {
        var (f, t) = IndexKeys.RoleRange(number, role, from, to);
        Func<byte[], byte[], bool> each = (k, v) => v.Length == 8
            ? visit(IndexKeys.SequenceOfRole(k), BinaryPrimitives.ReadInt64LittleEndian(v))
            : throw new InvalidDataException($"Role key value of {v.Length} bytes (8 expected).");
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

    /// <summary>Checks the file's structure, and that every session is filed under its id, time, status and user.</summary>
    public List<string> Check() => IndexFileCheck.Run(_tree);

    public void Dispose() => _tree.Dispose();
}
