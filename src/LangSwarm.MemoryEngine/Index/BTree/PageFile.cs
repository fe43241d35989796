using System.Buffers;
using System.Buffers.Binary;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Index.BTree;

/// <summary>
/// The pages of the index file: checked reads, writes, the two meta pages, overflow and free-list chains,
/// and a cache of parsed nodes. Knows nothing of keys or of the tree's shape.
/// </summary>
internal sealed class PageFile : IDisposable
{
    /// <summary>
    /// About how many bytes of parsed nodes the cache keeps. A parsed node holds an array per key and value,
    /// several times its page; a cache counted in nodes let a large store keep tens of megabytes of them, and
    /// clearing that many at once left the old generation fragmented. The OS page cache keeps the pages
    /// themselves, so a miss costs a read and a parse, not a disk access.
    /// </summary>
    public const long DefaultCacheBytes = 4L << 20;

    private readonly long _cacheBytes;

    private long _cachedBytes;

    private readonly IStorageFile _file;
    private readonly Dictionary<uint, Node> _cache = [];

    private PageFile(IStorageFile file, string name, long cacheBytes, StoreCipher? cipher)
    {
        _file = file;
        _cacheBytes = cacheBytes;
        Cipher = cipher;
        Name = name;
    }

    /// <summary>Seals the pages this file writes and opens sealed ones (null: pages are written plain).</summary>
    public StoreCipher? Cipher { get; }

    /// <summary>
    /// Bytes a page this file writes may hold after its header: less when pages are sealed, whose last bytes
    /// hold the seal. Reads accept the larger plain capacity (pages written before a key was given).
    /// </summary>
    public int Capacity => Cipher is null ? BTreePageHeader.Capacity : StoreCipher.SealedPageCapacity;

    public string Name { get; }

    /// <summary>About how many bytes of parsed nodes the cache keeps (a compaction reopens the file with the same).</summary>
    public long CacheBytes => _cacheBytes;

    /// <summary>
    /// Set when a meta page did not verify while the other did: the tree opened from the other commit, which
    /// may be the older one (a torn commit, or damage to the newer meta page).
    /// </summary>
    public string? MetaProblem { get; private set; }

    /// <summary>
    /// Opens <paramref name="name"/>, creating an empty tree when it does not exist; parsed nodes are cached up
    /// to about <paramref name="cacheBytes"/>.
    /// </summary>
    public static (PageFile File, BTreeMeta Meta) Open(IFileSystem fs, string name, long cacheBytes = DefaultCacheBytes, StoreCipher? cipher = null)
    {
        var exists = fs.FileExists(name);
        var file = fs.Open(name, create: true);
        try
        {
            var pages = new PageFile(file, name, cacheBytes, cipher);
            if (!exists || file.Length == 0)
            {
                var empty = new BTreeMeta(0, 0, 0, 2, 0, 0, 0, 0, 0);
                pages.WriteMeta(empty);
                if (!exists)
                {
                    fs.SyncDirectory(string.Empty);
                }
                return (pages, empty);
            }
            return (pages, pages.ReadMeta());
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>The newest valid meta page; throws <see cref="InvalidDataException"/> when neither is valid.</summary>
    private BTreeMeta ReadMeta()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            BTreeMeta? best = null;
            string? why = null;
            for (uint slot = 0; slot < 2; slot++)
            {
                var span = buffer.AsSpan(0, BTreePageHeader.PageSize);
                span.Clear();
                _file.Read(slot * (long)BTreePageHeader.PageSize, span);
                var meta = BTreeMeta.TryRead(span, slot, out var problem);
                if (meta is { } m && (best is null || m.TxId > best.Value.TxId))
                {
                    best = m;
                }
                if (problem is not null && span.ContainsAnyExcept((byte)0))
                {
                    // (A slot of zeros is one no commit has written yet.)
                    MetaProblem = $"meta page {slot}: {problem}";
                }
                if (problem is not null && problem.StartsWith(BTreeMeta.NewerVersionProblem, StringComparison.Ordinal))
                {
                    throw new StoreVersionException($"The {problem}.");
                }
                why ??= problem;
            }
            return best ?? throw new InvalidDataException($"Index file has no valid meta page ({why}).");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes a meta page and makes it durable: the commit point of a transaction.</summary>
    public void WriteMeta(BTreeMeta meta)
    {
        var page = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            // The meta page is never sealed: it names the key (id and check bits) an open must be given.
            (Cipher is null ? meta : meta with { KeyId = Cipher.KeyId, KeyCheck = Cipher.KeyCheck, SealedSince = Cipher.SealedSince }).WriteTo(page);
            _file.Write((long)(meta.TxId % 2) * BTreePageHeader.PageSize, page.AsSpan(0, BTreePageHeader.PageSize));
            _file.Flush();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(page);
        }
    }

    /// <summary>Reads and parses node page <paramref name="page"/> (cached; clean nodes never change).</summary>
    public Node ReadNode(uint page, uint pageCount) => ReadPage(page, pageCount, [], searchLeaf: false, out _, out _)!;

    /// <summary>
    /// Reads <paramref name="page"/> for a point lookup of <paramref name="key"/>. A cached node, or a branch
    /// (parsed and cached, as <see cref="ReadNode"/> does), comes back as a node to go on with. A leaf not in the
    /// cache is searched in its bytes (<see cref="LeafSearch"/>), neither parsed nor cached: null comes back,
    /// with <paramref name="found"/> and <paramref name="value"/> the lookup's answer.
    /// </summary>
    public Node? ReadForLookup(uint page, uint pageCount, ReadOnlySpan<byte> key, out bool found, out LeafValue value) =>
        ReadPage(page, pageCount, key, searchLeaf: true, out found, out value);

    private Node? ReadPage(uint page, uint pageCount, ReadOnlySpan<byte> key, bool searchLeaf, out bool found, out LeafValue value)
    {
        found = false;
        value = default;
        lock (_cache)
        {
            if (_cache.TryGetValue(page, out var cached))
            {
                return cached;
            }
        }
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            var h = ReadChecked(page, pageCount, buffer);
            if (searchLeaf && h.Type == BTreePageType.Leaf)
            {
                found = LeafSearch.TryFind(buffer, h, key, pageCount, out value);
                return null;
            }
            var node = Node.Decode(buffer, h, pageCount);
            Remember(node);
            return node;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes a node to its page and caches it as clean.</summary>
    public void WriteNode(Node node, uint page, ulong txId)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            node.Encode(buffer, page, txId);
            if (Cipher is not null && node.EncodedSize() <= StoreCipher.SealedPageCapacity)
            {
                // A node over the sealed capacity can only be one written plain before the store had a key and
                // not split since: it stays plain until an index compaction (vacuum, rekey) refills it.
                SealPage(buffer);
            }
            else
            {
                BTreePageHeader.Seal(buffer);
            }
            _file.Write(page * (long)BTreePageHeader.PageSize, buffer.AsSpan(0, BTreePageHeader.PageSize));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        node.MarkWritten(page);
        Remember(node);
    }

    /// <summary>Forgets a page that is about to be reused.</summary>
    public void Forget(uint page)
    {
        lock (_cache)
        {
            if (_cache.Remove(page, out var old))
            {
                _cachedBytes -= Footprint(old);
            }
        }
    }

    /// <summary>Writes a large value as a chain of overflow pages taken from <paramref name="allocate"/>; returns the first page.</summary>
    public uint WriteOverflow(ReadOnlySpan<byte> value, Func<uint> allocate, ulong txId)
    {
        var capacity = Capacity;
        var count = Math.Max(1, (value.Length + capacity - 1) / capacity);
        var pages = new uint[count];
        for (var i = 0; i < count; i++)
        {
            pages[i] = allocate();
        }
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var part = value.Slice(i * capacity, Math.Min(capacity, value.Length - (i * capacity)));
                var span = buffer.AsSpan(0, BTreePageHeader.PageSize);
                span.Clear();
                new BTreePageHeader(BTreePageType.Overflow, (ushort)part.Length, pages[i], i + 1 < count ? pages[i + 1] : 0, txId).WriteTo(span);
                part.CopyTo(span[BTreePageHeader.Size..]);
                SealPage(span);
                _file.Write(pages[i] * (long)BTreePageHeader.PageSize, span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return pages[0];
    }

    /// <summary>Reads an overflow chain of <paramref name="length"/> bytes; <paramref name="visitPage"/> sees each page number.</summary>
    public byte[] ReadOverflow(uint first, int length, uint pageCount, Action<uint>? visitPage = null)
    {
        if (length > BPlusTree.MaxValue)
        {
            throw new InvalidDataException($"Index overflow value of {length} bytes exceeds the maximum.");
        }
        var value = new byte[length];
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            var at = 0;
            var page = first;
            // Pages written sealed hold less than plain ones: bound the chain by the smaller.
            var guard = (length / StoreCipher.SealedPageCapacity) + 1;
            while (true)
            {
                var h = ReadChecked(page, pageCount, buffer);
                if (h.Type != BTreePageType.Overflow || h.Count > BTreePageHeader.Capacity || at + h.Count > length || guard-- <= 0)
                {
                    throw new InvalidDataException($"Index overflow page {page} does not fit its value.");
                }
                visitPage?.Invoke(page);
                buffer.AsSpan(BTreePageHeader.Size, h.Count).CopyTo(value.AsSpan(at));
                at += h.Count;
                if (h.Next == 0)
                {
                    break;
                }
                page = h.Next;
            }
            return at == length ? value : throw new InvalidDataException($"Index overflow chain at {first} holds {at} of {length} bytes.");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Writes the free list as a chain of pages (numbers given by the caller); returns its first page.</summary>
    public void WriteFreeList(List<uint> free, List<uint> chain, ulong txId)
    {
        var perPage = Capacity / 4;
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            for (var p = 0; p < chain.Count; p++)
            {
                var span = buffer.AsSpan(0, BTreePageHeader.PageSize);
                span.Clear();
                var from = p * perPage;
                var n = Math.Clamp(free.Count - from, 0, perPage);
                new BTreePageHeader(BTreePageType.FreeList, (ushort)n, chain[p], p + 1 < chain.Count ? chain[p + 1] : 0, txId).WriteTo(span);
                for (var i = 0; i < n; i++)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(span[(BTreePageHeader.Size + (i * 4))..], free[from + i]);
                }
                SealPage(span);
                _file.Write(chain[p] * (long)BTreePageHeader.PageSize, span);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Pages a free list needs to hold <paramref name="count"/> numbers.</summary>
    public int FreeListPages(int count) => (count + (Capacity / 4) - 1) / (Capacity / 4);

    /// <summary>Reads the free-list chain: the free pages, and the pages of the chain itself.</summary>
    public (List<uint> Free, List<uint> Chain) ReadFreeList(uint first, uint pageCount)
    {
        var free = new List<uint>();
        var chain = new List<uint>();
        var buffer = ArrayPool<byte>.Shared.Rent(BTreePageHeader.PageSize);
        try
        {
            var page = first;
            while (page != 0)
            {
                if (chain.Count > pageCount)
                {
                    throw new InvalidDataException("Index free list loops.");
                }
                var h = ReadChecked(page, pageCount, buffer);
                if (h.Type != BTreePageType.FreeList || h.Count > BTreePageHeader.Capacity / 4)
                {
                    throw new InvalidDataException($"Index page {page} is not a free-list page.");
                }
                chain.Add(page);
                for (var i = 0; i < h.Count; i++)
                {
                    var p = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(BTreePageHeader.Size + (i * 4)));
                    if (p < 2 || p >= pageCount)
                    {
                        throw new InvalidDataException($"Index free list names page {p}, outside the file.");
                    }
                    free.Add(p);
                }
                page = h.Next;
            }
            return (free, chain);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Makes every page written so far durable.</summary>
    public void Flush() => _file.Flush();

    /// <summary>Drops pages past <paramref name="pageCount"/> (after the meta that no longer uses them is durable).</summary>
    public void TrimTo(uint pageCount)
    {
        var length = pageCount * (long)BTreePageHeader.PageSize;
        if (_file.Length > length)
        {
            _file.SetLength(length);
        }
    }

    public long Length => _file.Length;

    public void Dispose() => _file.Dispose();

    private BTreePageHeader ReadChecked(uint page, uint pageCount, byte[] buffer)
    {
        if (page < 2 || page >= pageCount)
        {
            throw new InvalidDataException($"Index page {page} is outside the tree ({pageCount} pages).");
        }
        var span = buffer.AsSpan(0, BTreePageHeader.PageSize);
        if (_file.Read(page * (long)BTreePageHeader.PageSize, span) != BTreePageHeader.PageSize)
        {
            throw new InvalidDataException($"Index page {page} is past the end of the file.");
        }
        var problem = BTreePageHeader.TryRead(span, page, out var h);
        if (problem is not null)
        {
            throw new InvalidDataException($"Index page {page}: {problem}.");
        }
        switch (span[StoreCipher.PageSealedFlag])
        {
            case 0:
                return h;
            case 1 when Cipher is null:
                throw new EncryptionKeyException($"Index page {page} is sealed, and the store was opened without a key.", BinaryPrimitives.ReadUInt32LittleEndian(span[StoreCipher.PageTrailer..]));
            case 1:
                Cipher.OpenPage(span);
                return h;
            default:
                throw new InvalidDataException($"Index page {page}: header byte 5 is {span[StoreCipher.PageSealedFlag]}.");
        }
    }

    /// <summary>Seals a page whose content is written (with the cipher, when there is one), then checksums it.</summary>
    private void SealPage(Span<byte> page)
    {
        Cipher?.SealPage(page);
        BTreePageHeader.Seal(page);
    }

    private void Remember(Node node)
    {
        var bytes = Footprint(node);
        lock (_cache)
        {
            if (_cache.Remove(node.Page, out var old))
            {
                _cachedBytes -= Footprint(old);
            }
            if (_cachedBytes + bytes > _cacheBytes)
            {
                _cache.Clear();
                _cachedBytes = 0;
            }
            _cache[node.Page] = node;
            _cachedBytes += bytes;
        }
    }

    /// <summary>About the bytes a parsed node holds: its page's content, and per entry the arrays and list slots.</summary>
    private static long Footprint(Node node) => 128 + (2L * node.EncodedSize()) + (80L * node.Keys.Count);
}
