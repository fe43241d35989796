using System.Buffers;
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

    private readonly BPlusTree _tree;

    private IndexFile(BPlusTree tree)
    {
        _tree = tree;
    }

    /// <summary>Why a meta page was passed over at open: the file may be at its previous commit.</summary>
    public string? MetaProblem => _tree.MetaProblem;

    /// <summary>True once a checkpoint has been committed to the file.</summary>
    public bool HasCheckpoint => _tree.Meta.TxId != 0;

    /// <summary>Records below this LSN are in the file.</summary>
    public ulong CoveredLsn => _tree.Meta.User0;

    public ulong NextLsn => _tree.Meta.User1;

    public ulong NextSession => _tree.Meta.User2;

    public long FileBytes => _tree.FileBytes;

    public int FreePages => _tree.FreePages;

    /// <summary>Opens the file; throws <see cref="InvalidDataException"/> when it is damaged.</summary>
    public static IndexFile Open(IFileSystem fs) => new(BPlusTree.Open(fs, FileName));

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
            e.Saved = new SavedImage(e.Version, e.State.LastSequence, messages, summaries, new SessionKey(m.UpdatedAt.UtcTicks, m.SessionId), m.UserId);
            sessions.Add(e);
            return true;
        });
        return sessions;
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
                _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Summary, number), IndexKeys.RangeEnd(IndexKeys.Summary, number));
            }
            var scratch = new ArrayBufferWriter<byte>(256);
            foreach (var s in delta.Saves)
            {
                Write(s, scratch);
            }
            _tree.Commit(covered, nextLsn, nextSession);
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
        if (!s.Before.InFile || s.Before.Key != s.After.Key || s.Before.User != s.After.User)
        {
            if (s.Before.InFile)
            {
                Unfile(s.Before, n);
            }
            _tree.Put(IndexKeys.ForTime(s.After.Key.UpdatedTicks, n), Empty);
            if (s.After.User is { } user)
            {
                _tree.Put(IndexKeys.ForUser(user, s.After.Key.UpdatedTicks, n), Empty);
            }
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
            var gone = new List<byte[]>();
            _tree.ScanTransaction(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.RangeEnd(IndexKeys.Message, n), (k, _) =>
            {
                if (!keep.Contains(IndexKeys.SequenceOf(k)))
                {
                    gone.Add(k);
                }
                return true;
            });
            foreach (var k in gone)
            {
                _tree.Delete(k);
            }
        }
        else if (s.CutBelow != long.MinValue)
        {
            _tree.DeleteRange(IndexKeys.RangeStart(IndexKeys.Message, n), IndexKeys.ForMessage(n, s.CutBelow == long.MaxValue ? long.MaxValue : s.CutBelow));
        }
        foreach (var m in s.Messages)
        {
            _tree.Put(IndexKeys.ForMessage(n, m.Sequence), SessionRecord.EncodeMessage(m));
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

    private void Unfile(SavedImage saved, ulong number)
    {
        _tree.Delete(IndexKeys.ForTime(saved.Key.UpdatedTicks, number));
        if (saved.User is { } user)
        {
            _tree.Delete(IndexKeys.ForUser(user, saved.Key.UpdatedTicks, number));
        }
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

    /// <summary>Checks the file's structure, and that every session is filed under its id, time and user.</summary>
    public List<string> Check()
    {
        var problems = _tree.Check();
        if (problems.Count > 0)
        {
            return problems;
        }
        var (from, to) = IndexKeys.Space(IndexKeys.Session);
        var sessions = new List<(ulong, byte[])>();
        try
        {
            _tree.Scan(from, to, (k, v) =>
            {
                sessions.Add((IndexKeys.NumberOf(k), v));
                return true;
            });
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
            return problems;
        }
        var users = 0;
        foreach (var (number, value) in sessions)
        {
            SessionEntry e;
            try
            {
                e = SessionRecord.Read(number, value, NoContent.Instance, out _, out _);
            }
            catch (InvalidDataException ex)
            {
                problems.Add($"index session record {number}: {ex.Message}");
                continue;
            }
            var m = e.State.Metadata;
            if (!_tree.TryGet(IndexKeys.ForSessionId(m.SessionId), out var byId) || byId.Length != 8 || IndexKeys.NumberOf([IndexKeys.Session, .. byId]) != number)
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its id");
            }
            if (!_tree.TryGet(IndexKeys.ForTime(m.UpdatedAt.UtcTicks, number), out _))
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its activity time");
            }
            if (m.UserId is { } user && !_tree.TryGet(IndexKeys.ForUser(user, m.UpdatedAt.UtcTicks, number), out _))
            {
                problems.Add($"index file: session '{m.SessionId}' is not filed under its user");
            }
            users += m.UserId is null ? 0 : 1;
        }
        var expected = new Dictionary<byte, int> { [IndexKeys.SessionId] = sessions.Count, [IndexKeys.Time] = sessions.Count, [IndexKeys.User] = users };
        foreach (var (space, count) in expected)
        {
            var (f, t) = IndexKeys.Space(space);
            var found = 0;
            _tree.Scan(f, t, (_, _) =>
            {
                found++;
                return true;
            });
            if (found != count)
            {
                problems.Add($"index file: key space '{(char)space}' holds {found} keys for {count} sessions");
            }
        }
        return problems;
    }

    public void Dispose() => _tree.Dispose();

    /// <summary>For records read only to be checked.</summary>
    private sealed class NoContent : ISessionContentSource
    {
        public static readonly NoContent Instance = new();

        public List<MessageEntry> LoadMessages(SessionEntry entry) => [];

        public List<ConversationSummary> LoadSummaries(SessionEntry entry) => [];
    }
}
