using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>
/// A copy-on-write B+tree in one file of 4 KiB pages, after LMDB and bbolt (FORMAT.md §6): a write never
/// changes a page the committed tree uses; it copies the path from the root into new pages, and a commit
/// writes them, fsyncs, then writes the meta page naming the new root and fsyncs again. A crash anywhere
/// leaves the previous meta and every page it reaches intact.
/// <para>
/// Readers (<see cref="TryGet"/>, <see cref="Scan"/>) see the last committed tree and may run at the same time
/// as one writer. Pages freed by a commit are reused only by later transactions, once no reader can still
/// be walking the tree that used them (the root switch waits for readers to leave).
/// </para>
/// </summary>
internal sealed class BPlusTree : IDisposable
{
    /// <summary>Longest key.</summary>
    public const int MaxKey = 1000;

    /// <summary>Values longer than this go to overflow pages (so two entries always fit a page).</summary>
    public const int MaxInline = 1000;

    /// <summary>Most pages a file may have (2^31 pages, 8 TiB): page numbers never come near wrapping.</summary>
    public const uint MaxPages = 1u << 31;

    /// <summary>Longest value.</summary>
    public const int MaxValue = 16 * 1024 * 1024;

    /// <summary>
    /// Deepest path a reader follows. The tree grows a level only when its root splits, so a real tree stays far
    /// below this; a deeper path is a damaged file whose branch pages lead in a circle.
    /// </summary>
    internal const int MaxDepth = 64;

    private readonly IFileSystem _fs;
    private readonly ReaderWriterLockSlim _rw = new(LockRecursionPolicy.NoRecursion);
    private PageFile _pages;
    private BTreeMeta _meta;

    private readonly TreeWriter _writer;

    private BPlusTree(IFileSystem fs, PageFile pages, BTreeMeta meta)
    {
        _fs = fs;
        _pages = pages;
        _meta = meta;
        _writer = new TreeWriter(this);
    }

    /// <summary>The committed meta page.</summary>
    public BTreeMeta Meta => _meta;

    /// <summary>Key/value pairs in the committed tree.</summary>
    public ulong Count => _meta.EntryCount;

    /// <summary>Pages free for reuse.</summary>
    public int FreePages => _writer.FreePages;

    /// <summary>The page file (for the writer).</summary>
    internal PageFile Pages => _pages;

    /// <summary>Bytes of the index file.</summary>
    public long FileBytes
    {
        get
        {
            _rw.EnterReadLock(); // compaction swaps the file under the write lock
            try
            {
                return _pages.Length;
            }
            finally
            {
                _rw.ExitReadLock();
            }
        }
    }

    /// <summary>The file's name in the store.</summary>
    public string Name => _pages.Name;

    /// <summary>Why a meta page was passed over at open (see <see cref="PageFile.MetaProblem"/>); null when both verified.</summary>
    public string? MetaProblem => _pages.MetaProblem;

    /// <summary>
    /// Opens the tree in <paramref name="name"/> (created empty when missing). Throws
    /// <see cref="InvalidDataException"/> when the file is damaged beyond its fallback meta page.
    /// </summary>
    public static BPlusTree Open(IFileSystem fs, string name, long cacheBytes = PageFile.DefaultCacheBytes, StoreCipher? cipher = null)
    {
        var (pages, meta) = PageFile.Open(fs, name, cacheBytes, cipher);
        try
        {
            // Pages a committed meta names were fsynced before it; a count past the file is damage (and a
            // forged count near 2^32 would wrap page allocation onto the meta pages).
            if (meta.PageCount > 2 && (meta.PageCount - 1) * (long)BTreePageHeader.PageSize >= pages.Length || meta.PageCount > MaxPages)
            {
                throw new InvalidDataException($"Index meta names {meta.PageCount} pages; the file holds {pages.Length / BTreePageHeader.PageSize}.");
            }
            var tree = new BPlusTree(fs, pages, meta);
            tree._writer.LoadFreeList();
            return tree;
        }
        catch
        {
            pages.Dispose();
            throw;
        }
    }

    // ---- reads (committed tree) ----------------------------------------------------------------------------

    /// <summary>The committed value of <paramref name="key"/>.</summary>
    public bool TryGet(ReadOnlySpan<byte> key, out byte[] value)
    {
        _rw.EnterReadLock();
        try
        {
            value = [];
            if (_meta.Root == 0)
            {
                return false;
            }
            var node = _pages.ReadNode(_meta.Root, _meta.PageCount);
            for (var depth = 0; !node.IsLeaf; depth++)
            {
                CheckDepth(depth);
                if (_pages.ReadForLookup(node.Children[node.ChildIndex(key)], _meta.PageCount, key, out var inLeaf, out var leafValue) is not { } next)
                {
                    // A leaf not in the cache, searched in its bytes.
                    if (inLeaf)
                    {
                        value = Resolve(leafValue, _meta.PageCount);
                    }
                    return inLeaf;
                }
                node = next;
            }
            var i = node.LowerBound(key, out var found);
            if (!found)
            {
                return false;
            }
            value = Resolve(node.Values[i], _meta.PageCount);
            return true;
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>
    /// Visits committed entries with <paramref name="from"/> ≤ key &lt; <paramref name="to"/> in key order until
    /// <paramref name="visit"/> returns false. The visitor runs under the read lock: keep it short.
    /// </summary>
    public void Scan(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit)
    {
        _rw.EnterReadLock();
        try
        {
            if (_meta.Root != 0)
            {
                Walk(_pages.ReadNode(_meta.Root, _meta.PageCount), null, _meta.PageCount, from, to, visit, 0);
            }
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>
    /// <see cref="Scan"/> in descending key order: visits committed entries with <paramref name="from"/> ≤ key &lt;
    /// <paramref name="to"/>, the greatest first, until <paramref name="visit"/> returns false.
    /// </summary>
    public void ScanReverse(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit)
    {
        _rw.EnterReadLock();
        try
        {
            if (_meta.Root != 0)
            {
                WalkReverse(_pages.ReadNode(_meta.Root, _meta.PageCount), _meta.PageCount, from, to, visit, 0);
            }
        }
        finally
        {
            _rw.ExitReadLock();
        }
    }

    /// <summary>Reverse in-order walk of a committed subtree; false once the visitor stops or keys fall below <paramref name="from"/>.</summary>
    private bool WalkReverse(Node node, uint pageCount, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit, int depth)
    {
        CheckDepth(depth);
        if (node.IsLeaf)
        {
            for (var i = node.LowerBound(to, out _) - 1; i >= 0; i--)
            {
                if (node.Keys[i].AsSpan().SequenceCompareTo(from) < 0 || !visit(node.Keys[i], Resolve(node.Values[i], pageCount)))
                {
                    return false;
                }
            }
            return true;
        }
        for (var i = node.ChildIndex(to); i >= 0; i--)
        {
            if (!WalkReverse(_pages.ReadNode(node.Children[i], pageCount), pageCount, from, to, visit, depth + 1))
            {
                return false;
            }
            // Child i - 1 holds only keys below separator i - 1: none is in range once that is at or below from.
            if (i > 0 && node.Keys[i - 1].AsSpan().SequenceCompareTo(from) <= 0)
            {
                return false;
            }
        }
        return true;
    }

    private byte[] Resolve(LeafValue v, uint pageCount) => v.IsOverflow ? _pages.ReadOverflow(v.OverflowPage, v.Length, pageCount) : v.Inline!;

    /// <summary>In-order walk of a subtree (clean or, in a transaction, dirty); false once the visitor stops.</summary>
    internal bool Walk(Node node, Func<Node, int, Node>? child, uint pageCount, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit, int depth)
    {
        CheckDepth(depth);
        if (node.IsLeaf)
        {
            for (var i = node.LowerBound(from, out _); i < node.Keys.Count; i++)
            {
                if (node.Keys[i].AsSpan().SequenceCompareTo(to) >= 0 || !visit(node.Keys[i], Resolve(node.Values[i], pageCount)))
                {
                    return false;
                }
            }
            return true;
        }
        for (var i = node.ChildIndex(from); i < node.Children.Count; i++)
        {
            if (i > 0 && node.Keys[i - 1].AsSpan().SequenceCompareTo(to) >= 0)
            {
                return false;
            }
            var c = child is not null ? child(node, i) : _pages.ReadNode(node.Children[i], pageCount);
            if (!Walk(c, child, pageCount, from, to, visit, depth + 1))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Throws <see cref="InvalidDataException"/> past <see cref="MaxDepth"/> levels.</summary>
    internal static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"Index tree is deeper than {MaxDepth} levels: its branch pages lead in a circle.");
        }
    }

    // ---- writes (TreeWriter) -------------------------------------------------------------------------------

    /// <summary>True when the open transaction changed anything.</summary>
    public bool HasChanges => _writer.HasChanges;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> in the open transaction.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value) => _writer.Put(key, value);

    /// <summary>Removes <paramref name="key"/> in the open transaction; false when it is not there.</summary>
    public bool Delete(ReadOnlySpan<byte> key) => _writer.Delete(key);

    /// <summary>Removes every key in [<paramref name="from"/>, <paramref name="to"/>) in the open transaction; returns how many.</summary>
    public int DeleteRange(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to) => _writer.DeleteRange(from, to);

    /// <summary>Visits the open transaction's view of [<paramref name="from"/>, <paramref name="to"/>) in key order.</summary>
    public void ScanTransaction(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit) => _writer.ScanTransaction(from, to, visit);

    /// <summary>Makes the open transaction durable (see <see cref="TreeWriter.Commit"/>); the words go to the meta page.</summary>
    public void Commit(ulong user0, ulong user1, ulong user2) => _writer.Commit(user0, user1, user2);

    /// <summary>Drops the open transaction (its pages return to the free set).</summary>
    public void Rollback() => _writer.Rollback();

    /// <summary>Switches readers to a committed meta, once the readers of the old root have left.</summary>
    internal void Publish(BTreeMeta meta)
    {
        _rw.EnterWriteLock();
        try
        {
            _meta = meta;
        }
        finally
        {
            _rw.ExitWriteLock();
        }
    }

    // ---- compaction and checks ------------------------------------------------------------------------------

    private const int CompactBatch = 50_000;

    /// <summary>
    /// Rewrites the committed tree into a new file with every page full and no free pages, fsyncs it, and
    /// renames it over this one (the rename is the switch: a crash before it leaves the old file, after it
    /// the new one, both complete). Call with no transaction open. Returns the bytes the file shrank by.
    /// </summary>
    public long Compact()
    {
        if (_writer.HasChanges)
        {
            throw new InvalidOperationException("Compact needs the write transaction to be empty.");
        }
        var temp = Name + ".compact";
        var before = FileBytes;
        _fs.Delete(temp);
        using (var fresh = Open(_fs, temp, PageFile.DefaultCacheBytes, _pages.Cipher))
        {
            var pending = 0;
            // Keys arrive in order, so every leaf fills up before the next starts (see NodeSplitter.SplitLeaf).
            Scan([], MaxKeyBound, (k, v) =>
            {
                fresh.Put(k, v);
                if (++pending == CompactBatch)
                {
                    fresh.Commit(_meta.User0, _meta.User1, _meta.User2);
                    pending = 0;
                }
                return true;
            });
            fresh.Commit(_meta.User0, _meta.User1, _meta.User2);
        }
        _fs.Rename(temp, Name);
        _fs.SyncDirectory(string.Empty);

        var (pages, meta) = PageFile.Open(_fs, Name, _pages.CacheBytes, _pages.Cipher);
        _rw.EnterWriteLock();
        var old = _pages;
        try
        {
            _pages = pages;
            _meta = meta;
        }
        finally
        {
            _rw.ExitWriteLock();
        }
        old.Dispose();
        _writer.LoadFreeList();
        return before - FileBytes;
    }

    /// <summary>A key above every valid key (longer than the longest allowed).</summary>
    private static readonly byte[] MaxKeyBound = CreateMaxKeyBound();

    private static byte[] CreateMaxKeyBound()
    {
        var k = new byte[MaxKey + 1];
        Array.Fill(k, (byte)0xFF);
        return k;
    }

    /// <summary>Checks the committed tree: every page readable, keys ordered within and across pages, counts agree.</summary>
    public List<string> Check()
    {
        var problems = new List<string>();
        ulong entries = 0;
        byte[]? last = null;
        try
        {
            Scan([], MaxKeyBound, (k, _) =>
            {
                if (last is not null && last.AsSpan().SequenceCompareTo(k) >= 0)
                {
                    problems.Add("index keys out of order");
                    return false;
                }
                last = k;
                entries++;
                return true;
            });
        }
        catch (InvalidDataException ex)
        {
            problems.Add(ex.Message);
        }
        if (problems.Count == 0 && entries != _meta.EntryCount)
        {
            problems.Add($"index meta counts {_meta.EntryCount} entries, the tree holds {entries}");
        }
        if (_meta.PageCount > 2 && _meta.PageCount * (long)BTreePageHeader.PageSize > FileBytes)
        {
            problems.Add($"index file is {FileBytes} bytes, its meta names {_meta.PageCount} pages");
        }
        return problems;
    }

    public void Dispose()
    {
        _pages.Dispose();
        _rw.Dispose();
    }
}
