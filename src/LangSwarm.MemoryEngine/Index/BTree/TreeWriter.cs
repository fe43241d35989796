using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>
/// The write transaction of a <see cref="BPlusTree"/>: path-copying puts and deletes on dirty copies of the
/// committed nodes, then <see cref="Commit"/>. Owns the free pages (what the committed tree does not reach) and
/// the transaction's state; the tree owns the committed meta and the readers. One writer at a time.
/// </summary>
internal sealed class TreeWriter(BPlusTree tree)
{
    private readonly BPlusTree _tree = tree;

    // Pages free as of the committed meta (not reachable from it), and the meta's own free-list chain.
    private SortedSet<uint> _free = [];
    private List<uint> _freeChain = [];

    // The open write transaction.
    private Node? _txRoot;
    private bool _txChanged;
    private uint _txPageCount;
    private long _txEntries;
    private readonly List<uint> _txFreed = [];

    /// <summary>Pages free for reuse.</summary>
    public int FreePages => _free.Count;

    /// <summary>Reads the committed meta's free list and starts a transaction (at open, and after a compaction switched the file).</summary>
    public void LoadFreeList()
    {
        _free = [];
        _freeChain = [];
        var meta = _tree.Meta;
        if (meta.FreeList != 0)
        {
            var (free, chain) = _tree.Pages.ReadFreeList(meta.FreeList, meta.PageCount);
            _free = [.. free];
            if (_free.Count != free.Count || chain.Exists(_free.Contains))
            {
                // Handing one page out twice would overwrite live data: a forged or stale list is damage.
                throw new InvalidDataException("Index free list names a page twice, or one of its own pages.");
            }
            _freeChain = chain;
        }
        ResetTransaction();
    }

    // Pages taken from the free set by this transaction (given back if it is rolled back).
    private readonly List<uint> _txTaken = [];

    /// <summary>True when the open transaction changed anything.</summary>
    public bool HasChanges => _txChanged;

    /// <summary>Sets <paramref name="key"/> to <paramref name="value"/> in the open transaction.</summary>
    public void Put(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
    {
        CheckKey(key);
        if (value.Length > BPlusTree.MaxValue)
        {
            throw new ArgumentException($"Index value of {value.Length} bytes exceeds {BPlusTree.MaxValue}.", nameof(value));
        }
        var stored = value.Length > BPlusTree.MaxInline
            ? new LeafValue(null, _tree.Pages.WriteOverflow(value, Allocate, _tree.Meta.TxId + 1), value.Length)
            : new LeafValue(value.ToArray(), 0, value.Length);
        var root = TxRoot();
        if (Insert(root, key.ToArray(), stored, 0) is { } split)
        {
            var top = Node.NewBranch();
            top.Children.Add(0);
            top.DirtyChildren.Add(root);
            top.Keys.Add(split.Key);
            top.Children.Add(0);
            top.DirtyChildren.Add(split.Right);
            _txRoot = top;
        }
        _txChanged = true;
    }

    /// <summary>Removes <paramref name="key"/> in the open transaction; false when it is not there.</summary>
    public bool Delete(ReadOnlySpan<byte> key)
    {
        CheckKey(key);
        if (!ContainsInTransaction(key))
        {
            return false;
        }
        RemovePresent(key);
        return true;
    }

    /// <summary>Removes a key known to be in the open transaction's view.</summary>
    private void RemovePresent(ReadOnlySpan<byte> key)
    {
        var root = TxRoot();
        Remove(root, key, 0);
        if (!root.IsLeaf && root.Children.Count == 0)
        {
            _txRoot = Node.NewLeaf();
        }
        _txChanged = true;
    }

    /// <summary>Removes every key in [<paramref name="from"/>, <paramref name="to"/>) in the open transaction; returns how many.</summary>
    public int DeleteRange(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to)
    {
        var keys = new List<byte[]>();
        ScanTransaction(from, to, (k, _) =>
        {
            keys.Add(k);
            return true;
        });
        foreach (var k in keys)
        {
            RemovePresent(k); // just scanned: no second lookup to learn it is there
        }
        return keys.Count;
    }

    /// <summary>Visits the open transaction's view of [<paramref name="from"/>, <paramref name="to"/>) in key order.</summary>
    public void ScanTransaction(ReadOnlySpan<byte> from, ReadOnlySpan<byte> to, Func<byte[], byte[], bool> visit)
    {
        var root = _txRoot ?? (_tree.Meta.Root == 0 ? null : _tree.Pages.ReadNode(_tree.Meta.Root, _tree.Meta.PageCount));
        if (root is not null)
        {
            _tree.Walk(root, ViewChild, _txPageCount, from, to, visit, 0);
        }
    }

    /// <summary>
    /// Makes the transaction durable: writes the copied nodes to free pages, the free list, fsyncs, then writes
    /// and fsyncs the meta page (the commit point) and lets readers see the new root. The words are stored in
    /// the meta page for the caller.
    /// </summary>
    public void Commit(ulong user0, ulong user1, ulong user2)
    {
        var txId = _tree.Meta.TxId + 1;
        var root = _tree.Meta.Root;
        if (_txRoot is not null)
        {
            LeafRepacker.Repack(_txRoot, _tree.Pages.Capacity);
            root = WriteRoot(_txRoot, txId);
        }

        // Trailing free pages leave the file; pages this transaction freed stay reserved until it is durable.
        while (_txPageCount > 2 && _free.Contains(_txPageCount - 1))
        {
            _free.Remove(_txPageCount - 1);
            _txPageCount--;
        }
        _txFreed.AddRange(_freeChain);
        // The free list's own pages come from pages already free (never one the committed tree still uses).
        var chain = new List<uint>();
        for (var i = _tree.Pages.FreeListPages(_free.Count + _txFreed.Count); i > 0; i--)
        {
            chain.Add(Allocate());
        }
        var all = new List<uint>(_free.Count + _txFreed.Count);
        all.AddRange(_free);
        all.AddRange(_txFreed);
        all.Sort();
        if (chain.Count > 0)
        {
            _tree.Pages.WriteFreeList(all, chain, txId);
        }
        _tree.Pages.Flush();
        var meta = new BTreeMeta(txId, root, chain.Count > 0 ? chain[0] : 0, _txPageCount, (ulong)_txEntries, user0, user1, user2, 0);
        _tree.Pages.WriteMeta(meta);

        _tree.Publish(meta); // waits for readers of the old root: the pages it freed may be reused from now on
        _free = [.. all];
        _freeChain = chain;
        _txTaken.Clear();
        ResetTransaction();
        _tree.Pages.TrimTo(meta.PageCount);
    }

    /// <summary>Drops the open transaction (its pages return to the free set).</summary>
    public void Rollback()
    {
        foreach (var p in _txTaken)
        {
            if (p < _tree.Meta.PageCount)
            {
                _free.Add(p);
            }
        }
        _txTaken.Clear();
        ResetTransaction();
    }

    /// <summary>Starts a fresh transaction on the committed tree.</summary>
    public void ResetTransaction()
    {
        _txRoot = null;
        _txChanged = false;
        _txPageCount = _tree.Meta.PageCount;
        _txEntries = (long)_tree.Meta.EntryCount;
        _txFreed.Clear();
    }

    private static void CheckKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty || key.Length > BPlusTree.MaxKey)
        {
            throw new ArgumentException($"Index keys are 1 to {BPlusTree.MaxKey} bytes; got {key.Length}.", nameof(key));
        }
    }

    private uint Allocate()
    {
        uint page;
        if (_free.Count > 0)
        {
            page = _free.Min;
            _free.Remove(page);
            _txTaken.Add(page);
        }
        else
        {
            if (_txPageCount >= BPlusTree.MaxPages)
            {
                throw new IOException($"The index file reached its limit of {BPlusTree.MaxPages} pages.");
            }
            page = _txPageCount++;
        }
        _tree.Pages.Forget(page);
        return page;
    }

    private Node TxRoot()
    {
        if (_txRoot is null)
        {
            if (_tree.Meta.Root == 0)
            {
                _txRoot = Node.NewLeaf();
            }
            else
            {
                _txRoot = _tree.Pages.ReadNode(_tree.Meta.Root, _tree.Meta.PageCount).CloneDirty();
                _txFreed.Add(_tree.Meta.Root);
            }
        }
        return _txRoot;
    }

    private Node ViewChild(Node parent, int i) => parent.DirtyChildren[i] ?? _tree.Pages.ReadNode(parent.Children[i], _txPageCount);

    /// <summary>The dirty copy of child <paramref name="i"/>, made on first touch (its old page is freed with the commit).</summary>
    private Node MutableChild(Node parent, int i)
    {
        if (parent.DirtyChildren[i] is { } dirty)
        {
            return dirty;
        }
        var copy = _tree.Pages.ReadNode(parent.Children[i], _txPageCount).CloneDirty();
        _txFreed.Add(parent.Children[i]);
        parent.DirtyChildren[i] = copy;
        return copy;
    }

    private bool ContainsInTransaction(ReadOnlySpan<byte> key)
    {
        var node = _txRoot ?? (_tree.Meta.Root == 0 ? null : _tree.Pages.ReadNode(_tree.Meta.Root, _tree.Meta.PageCount));
        if (node is null)
        {
            return false;
        }
        for (var depth = 0; !node.IsLeaf; depth++)
        {
            BPlusTree.CheckDepth(depth);
            node = ViewChild(node, node.ChildIndex(key));
        }
        node.LowerBound(key, out var found);
        return found;
    }

    private (byte[] Key, Node Right)? Insert(Node node, byte[] key, LeafValue value, int depth)
    {
        BPlusTree.CheckDepth(depth);
        if (node.IsLeaf)
        {
            var i = node.LowerBound(key, out var found);
            if (found)
            {
                FreeValue(node.Values[i]);
                node.LeafReplace(i, value);
            }
            else
            {
                node.LeafInsert(i, key, value);
                _txEntries++;
            }
            return node.EncodedSize() > _tree.Pages.Capacity ? NodeSplitter.SplitLeaf(node, i, _tree.Pages.Capacity) : null;
        }
        var c = node.ChildIndex(key);
        if (Insert(MutableChild(node, c), key, value, depth + 1) is not { } split)
        {
            return null;
        }
        node.Keys.Insert(c, split.Key);
        node.Children.Insert(c + 1, 0);
        node.DirtyChildren.Insert(c + 1, split.Right);
        node.InvalidateSize();
        return node.EncodedSize() > _tree.Pages.Capacity ? NodeSplitter.SplitBranch(node) : null;
    }

    /// <summary>Removes a key known to be present. Pages that empty are dropped from their parent (no merging: vacuum repacks).</summary>
    private void Remove(Node node, ReadOnlySpan<byte> key, int depth)
    {
        BPlusTree.CheckDepth(depth);
        if (node.IsLeaf)
        {
            var i = node.LowerBound(key, out var found);
            if (found)
            {
                FreeValue(node.Values[i]);
                node.LeafRemove(i);
                _txEntries--;
            }
            return;
        }
        var c = node.ChildIndex(key);
        var child = MutableChild(node, c);
        Remove(child, key, depth + 1);
        if (child.IsLeaf ? child.Keys.Count == 0 : child.Children.Count == 0)
        {
            node.Children.RemoveAt(c);
            node.DirtyChildren.RemoveAt(c);
            if (node.Keys.Count > 0)
            {
                node.Keys.RemoveAt(c == 0 ? 0 : c - 1);
            }
            node.InvalidateSize();
        }
    }

    private void FreeValue(LeafValue v)
    {
        if (v.IsOverflow)
        {
            _tree.Pages.ReadOverflow(v.OverflowPage, v.Length, _txPageCount, _txFreed.Add);
        }
    }

    /// <summary>Writes the dirty tree under <paramref name="root"/> bottom-up; returns the root page (0: empty).</summary>
    private uint WriteRoot(Node root, ulong txId)
    {
        // A branch left with one child hands the root down.
        while (!root.IsLeaf && root.Children.Count == 1)
        {
            if (root.DirtyChildren[0] is not { } only)
            {
                return root.Children[0];
            }
            root = only;
        }
        if (root.IsLeaf && root.Keys.Count == 0)
        {
            return 0;
        }
        WriteDirty(root, txId);
        return root.Page;
    }

    private void WriteDirty(Node node, ulong txId)
    {
        if (!node.IsLeaf)
        {
            for (var i = 0; i < node.Children.Count; i++)
            {
                if (node.DirtyChildren[i] is { } d)
                {
                    WriteDirty(d, txId);
                    node.Children[i] = d.Page;
                }
            }
        }
        _tree.Pages.WriteNode(node, Allocate(), txId);
    }
}
