using System.Buffers.Binary;
using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>A value as a leaf holds it: inline bytes, or the first page and length of an overflow chain.</summary>
internal readonly record struct LeafValue(byte[]? Inline, uint OverflowPage, int Length)
{
    public bool IsOverflow => Inline is null;

    /// <summary>Bytes the value takes in a leaf page.</summary>
    public int StoredSize => Inline?.Length ?? 8;
}

/// <summary>
/// One B+tree node in memory. A clean node mirrors a page and is shared by readers (never changed); a write
/// copies the path it touches into dirty nodes (copy-on-write), which get fresh pages at commit.
/// In a branch, <c>Keys[i]</c> is the smallest key under child <c>i + 1</c>.
/// </summary>
internal sealed class Node
{
    /// <summary>Most bytes of a leaf entry's three varints (shared prefix, suffix length, value field).</summary>
    public const int MaxLeafEntryOverhead = 6;

    private Node(bool leaf, int capacity)
    {
        IsLeaf = leaf;
        Keys = new List<byte[]>(capacity);
        if (leaf)
        {
            Values = new List<LeafValue>(capacity);
        }
        else
        {
            Children = new List<uint>(capacity + 1);
            DirtyChildren = new List<Node?>(capacity + 1);
        }
    }

    public bool IsLeaf { get; }

    /// <summary>The page this node was read from (0 for a dirty node until commit).</summary>
    public uint Page { get; set; }

    public bool Dirty { get; private set; }

    public List<byte[]> Keys { get; }

    public List<LeafValue> Values { get; } = null!;

    /// <summary>Child pages (branch); for a child replaced by a dirty copy, the copy is in <see cref="DirtyChildren"/>.</summary>
    public List<uint> Children { get; } = null!;

    public List<Node?> DirtyChildren { get; } = null!;

    public static Node NewLeaf() => new(true, 16) { Dirty = true };

    public static Node NewBranch() => new(false, 16) { Dirty = true };

    // EncodedSize, kept up to date by the leaf edits below (-1: not known; computed on demand). A write inserts
    // into a leaf of a few hundred entries, so recomputing it per insert made checkpoints quadratic per page.
    private int _size = -1;

    /// <summary>Bytes this node needs in a page after the header.</summary>
    public int EncodedSize() => _size >= 0 ? _size : _size = ComputeSize();

    /// <summary>Forgets the cached size after an edit that does not maintain it (splits, branch edits).</summary>
    public void InvalidateSize() => _size = -1;

    /// <summary>Leaf: inserts a new entry at <paramref name="i"/>.</summary>
    public void LeafInsert(int i, byte[] key, LeafValue value)
    {
        var previous = i > 0 ? Keys[i - 1] : null;
        var delta = LeafEntrySize(previous, key, value);
        if (i < Keys.Count)
        {
            delta += LeafEntrySize(key, Keys[i], Values[i]) - LeafEntrySize(previous, Keys[i], Values[i]);
        }
        Keys.Insert(i, key);
        Values.Insert(i, value);
        Adjust(delta);
    }

    /// <summary>Leaf: replaces the value of entry <paramref name="i"/>.</summary>
    public void LeafReplace(int i, LeafValue value)
    {
        var previous = i > 0 ? Keys[i - 1] : null;
        Adjust(LeafEntrySize(previous, Keys[i], value) - LeafEntrySize(previous, Keys[i], Values[i]));
        Values[i] = value;
    }

    /// <summary>Leaf: removes entry <paramref name="i"/>.</summary>
    public void LeafRemove(int i)
    {
        var previous = i > 0 ? Keys[i - 1] : null;
        var delta = -LeafEntrySize(previous, Keys[i], Values[i]);
        if (i + 1 < Keys.Count)
        {
            delta += LeafEntrySize(previous, Keys[i + 1], Values[i + 1]) - LeafEntrySize(Keys[i], Keys[i + 1], Values[i + 1]);
        }
        Keys.RemoveAt(i);
        Values.RemoveAt(i);
        Adjust(delta);
    }

    private void Adjust(int delta)
    {
        if (_size >= 0)
        {
            _size += delta;
        }
    }

    private int ComputeSize()
    {
        var size = 0;
        if (IsLeaf)
        {
            for (var i = 0; i < Keys.Count; i++)
            {
                size += LeafEntrySize(i == 0 ? null : Keys[i - 1], Keys[i], Values[i]);
            }
            return size;
        }
        size = 4;
        foreach (var k in Keys)
        {
            size += 2 + k.Length + 4;
        }
        return size;
    }

    /// <summary>
    /// Bytes of one leaf entry after <paramref name="previous"/> (null: first in its page): the key is stored as
    /// the length of the prefix it shares with the previous key and the rest, so runs of keys that differ only
    /// in their last bytes (a session's message entries) cost a byte or two of key each.
    /// </summary>
    public static int LeafEntrySize(byte[]? previous, byte[] key, LeafValue value)
    {
        var shared = previous is null ? 0 : key.AsSpan().CommonPrefixLength(previous);
        return VarintSize((uint)shared) + VarintSize((uint)(key.Length - shared)) + VarintSize(ValueField(value)) + (key.Length - shared) + value.StoredSize;
    }

    private static uint ValueField(LeafValue v) => v.IsOverflow ? 1u : (uint)v.Inline!.Length << 1;

    private static int VarintSize(uint v) => Varint.Size(v);

    private static int WriteVarint(Span<byte> dest, uint v) => Varint.Write(dest, v);

    internal static uint ReadVarint(ReadOnlySpan<byte> body, ref int at, in BTreePageHeader h) =>
        Varint.TryRead(body, ref at, 3, out var v) ? (uint)v : throw Bad(h, "broken varint");

    /// <summary>A dirty copy of a clean node (the path copy of a write).</summary>
    public Node CloneDirty()
    {
        var n = new Node(IsLeaf, Keys.Count + 1) { Dirty = true, _size = _size };
        n.Keys.AddRange(Keys);
        if (IsLeaf)
        {
            n.Values.AddRange(Values);
        }
        else
        {
            n.Children.AddRange(Children);
            for (var i = 0; i < Children.Count; i++)
            {
                n.DirtyChildren.Add(null);
            }
        }
        return n;
    }

    /// <summary>Marks a freshly written node clean, at <paramref name="page"/>.</summary>
    public void MarkWritten(uint page)
    {
        Page = page;
        Dirty = false;
        if (!IsLeaf)
        {
            for (var i = 0; i < DirtyChildren.Count; i++)
            {
                DirtyChildren[i] = null;
            }
        }
    }

    /// <summary>Index of the child whose range holds <paramref name="key"/>.</summary>
    public int ChildIndex(ReadOnlySpan<byte> key)
    {
        int lo = 0, hi = Keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (key.SequenceCompareTo(Keys[mid]) >= 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        return lo;
    }

    /// <summary>Leaf: index of the first key at or above <paramref name="key"/>; <paramref name="found"/> when equal.</summary>
    public int LowerBound(ReadOnlySpan<byte> key, out bool found)
    {
        int lo = 0, hi = Keys.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (key.SequenceCompareTo(Keys[mid]) > 0)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }
        found = lo < Keys.Count && key.SequenceEqual(Keys[lo]);
        return lo;
    }

    /// <summary>
    /// Writes a clean page image of this node (children must already have pages), without its checksum: the page
    /// file seals it (encryption, then the CRC over what is written).
    /// </summary>
    public void Encode(Span<byte> page, uint pageNumber, ulong txId)
    {
        page[..BTreePageHeader.PageSize].Clear();
        var count = IsLeaf ? Keys.Count : Children.Count;
        new BTreePageHeader(IsLeaf ? BTreePageType.Leaf : BTreePageType.Branch, (ushort)count, pageNumber, 0, txId).WriteTo(page);
        var b = page[BTreePageHeader.Size..];
        var at = 0;
        if (IsLeaf)
        {
            for (var i = 0; i < Keys.Count; i++)
            {
                var k = Keys[i];
                var v = Values[i];
                var shared = i == 0 ? 0 : k.AsSpan().CommonPrefixLength(Keys[i - 1]);
                at += WriteVarint(b[at..], (uint)shared);
                at += WriteVarint(b[at..], (uint)(k.Length - shared));
                at += WriteVarint(b[at..], ValueField(v));
                k.AsSpan(shared).CopyTo(b[at..]);
                at += k.Length - shared;
                if (v.IsOverflow)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(b[at..], v.OverflowPage);
                    BinaryPrimitives.WriteInt32LittleEndian(b[(at + 4)..], v.Length);
                    at += 8;
                }
                else
                {
                    v.Inline!.CopyTo(b[at..]);
                    at += v.Inline!.Length;
                }
            }
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(b, Children[0]);
            at = 4;
            for (var i = 0; i < Keys.Count; i++)
            {
                var k = Keys[i];
                BinaryPrimitives.WriteUInt16LittleEndian(b[at..], (ushort)k.Length);
                k.CopyTo(b[(at + 2)..]);
                at += 2 + k.Length;
                BinaryPrimitives.WriteUInt32LittleEndian(b[at..], Children[i + 1]);
                at += 4;
            }
        }
        if (at != EncodedSize())
        {
            throw new InvalidOperationException($"Index node size bookkeeping is off: {at} bytes written, {EncodedSize()} expected.");
        }
    }

    /// <summary>Parses a verified leaf or branch page; throws <see cref="InvalidDataException"/> when its body does not add up.</summary>
    public static Node Decode(ReadOnlySpan<byte> page, in BTreePageHeader h, uint pageCount)
    {
        if (h.Type is not (BTreePageType.Leaf or BTreePageType.Branch))
        {
            throw new InvalidDataException($"Index page {h.PageNumber} is a {h.Type} page where a node was expected.");
        }
        var leaf = h.Type == BTreePageType.Leaf;
        var n = new Node(leaf, h.Count) { Page = h.PageNumber };
        var b = page[BTreePageHeader.Size..BTreePageHeader.PageSize];
        var at = 0;
        if (leaf)
        {
            byte[]? previous = null;
            for (var i = 0; i < h.Count; i++)
            {
                var shared = (int)ReadVarint(b, ref at, h);
                var suffix = (int)ReadVarint(b, ref at, h);
                var field = ReadVarint(b, ref at, h);
                if (shared > (previous?.Length ?? 0) || suffix > BPlusTree.MaxKey)
                {
                    throw Bad(h, "key prefix longer than the previous key");
                }
                CheckKeyLength(shared + suffix, h);
                Need(b, at, suffix, h);
                var key = new byte[shared + suffix];
                previous.AsSpan(0, shared).CopyTo(key);
                b.Slice(at, suffix).CopyTo(key.AsSpan(shared));
                n.Keys.Add(key);
                previous = key;
                at += suffix;
                if (field == 1)
                {
                    Need(b, at, 8, h);
                    var first = BinaryPrimitives.ReadUInt32LittleEndian(b[at..]);
                    var length = BinaryPrimitives.ReadInt32LittleEndian(b[(at + 4)..]);
                    if (first < 2 || first >= pageCount || length <= BPlusTree.MaxInline || length > BPlusTree.MaxValue)
                    {
                        throw Bad(h, "overflow reference out of range");
                    }
                    n.Values.Add(new LeafValue(null, first, length));
                    at += 8;
                }
                else
                {
                    var vl = (int)(field >> 1);
                    if ((field & 1) != 0 || vl > BPlusTree.MaxInline)
                    {
                        throw Bad(h, $"inline value field {field}");
                    }
                    Need(b, at, vl, h);
                    n.Values.Add(new LeafValue(b.Slice(at, vl).ToArray(), 0, vl));
                    at += vl;
                }
            }
        }
        else
        {
            if (h.Count == 0)
            {
                throw Bad(h, "branch without children");
            }
            Need(b, 0, 4, h);
            n.Children.Add(Child(BinaryPrimitives.ReadUInt32LittleEndian(b), h, pageCount));
            n.DirtyChildren.Add(null);
            at = 4;
            for (var i = 1; i < h.Count; i++)
            {
                Need(b, at, 2, h);
                int kl = BinaryPrimitives.ReadUInt16LittleEndian(b[at..]);
                at += 2;
                CheckKeyLength(kl, h);
                Need(b, at, kl + 4, h);
                n.Keys.Add(b.Slice(at, kl).ToArray());
                at += kl;
                n.Children.Add(Child(BinaryPrimitives.ReadUInt32LittleEndian(b[at..]), h, pageCount));
                n.DirtyChildren.Add(null);
                at += 4;
            }
        }
        for (var i = 1; i < n.Keys.Count; i++)
        {
            if (n.Keys[i - 1].AsSpan().SequenceCompareTo(n.Keys[i]) >= 0)
            {
                throw Bad(h, "keys out of order");
            }
        }
        return n;
    }

    private static uint Child(uint page, in BTreePageHeader h, uint pageCount) =>
        page < 2 || page >= pageCount || page == h.PageNumber ? throw Bad(h, $"child page {page} out of range") : page;

    internal static void CheckKeyLength(int length, in BTreePageHeader h)
    {
        if (length is < 1 or > BPlusTree.MaxKey)
        {
            throw Bad(h, $"key of {length} bytes");
        }
    }

    internal static void Need(ReadOnlySpan<byte> body, int at, int length, in BTreePageHeader h)
    {
        if (length < 0 || at + length > body.Length)
        {
            throw Bad(h, "entry runs past the page");
        }
    }

    internal static InvalidDataException Bad(in BTreePageHeader h, string what) => new($"Index page {h.PageNumber}: {what}.");
}
