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
internal sealed partial class BPlusTree : IDisposable
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

    // Pages free as of the committed meta (not reachable from it), and the meta's own free-list chain.
    private SortedSet<uint> _free = [];
    private List<uint> _freeChain = [];

    // The open write transaction.
    private Node? _txRoot;
    private bool _txChanged;
    private uint _txPageCount;
    private long _txEntries;
    private readonly List<uint> _txFreed = [];

    private BPlusTree(IFileSystem fs, PageFile pages, BTreeMeta meta)
    {
        _fs = fs;
        _pages = pages;
        _meta = meta;
        ResetTransaction();
    }

    /// <summary>The committed meta page.</summary>
    public BTreeMeta Meta => _meta;

    /// <summary>Key/value pairs in the committed tree.</summary>
    public ulong Count => _meta.EntryCount;

    /// <summary>Pages free for reuse.</summary>
    public int FreePages => _free.Count;

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
    public static BPlusTree Open(IFileSystem fs, string name)
    {
        var (pages, meta) = PageFile.Open(fs, name);
        try
        {
            // Pages a committed meta names were fsynced before it; a count past the file is damage (and a
            // forged count near 2^32 would wrap page allocation onto the meta pages).
            if (meta.PageCount > 2 && (meta.PageCount - 1) * (long)BTreePageHeader.PageSize >= pages.Length || meta.PageCount > MaxPages)
            {
                throw new InvalidDataException($"Index meta names {meta.PageCount} pages; the file holds {pages.Length / BTreePageHeader.PageSize}.");
            }
            var tree = new BPlusTree(fs, pages, meta);
            tree.LoadFreeList();
            return tree;
        }
        catch
        {
            pages.Dispose();
            throw;
        }
    }

    private void LoadFreeList()
    {
        if (_meta.FreeList == 0)
        {
            return;
        }
        var (free, chain) = _pages.ReadFreeList(_meta.FreeList, _meta.PageCount);
        _free = [.. free];
        if (_free.Count != free.Count || chain.Exists(_free.Contains))
        {
            // Handing one page out twice would overwrite live data: a forged or stale list is damage.
            throw new InvalidDataException("Index free list names a page twice, or one of its own pages.");
        }
        _freeChain = chain;
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
                node = _pages.ReadNode(node.Children[node.ChildIndex(key)], _meta.PageCount);
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
    private bool Walk(Node node, Func<Node, int, Node>? child, uint pageCount, ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit, int depth)
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
    private static void CheckDepth(int depth)
    {
        if (depth > MaxDepth)
        {
            throw new InvalidDataException($"Index tree is deeper than {MaxDepth} levels: its branch pages lead in a circle.");
        }
    }

    public void Dispose()
    {
        _pages.Dispose();
        _rw.Dispose();
    }
}
