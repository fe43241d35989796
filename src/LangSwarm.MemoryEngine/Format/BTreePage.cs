using System.Buffers.Binary;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>What a page of the index file (<c>index.btree</c>) holds.</summary>
internal enum BTreePageType : byte
{
    /// <summary>One of the two meta pages (0 and 1) that name the root.</summary>
    Meta = 1,

    /// <summary>Interior node: child page numbers separated by keys.</summary>
    Branch = 2,

    /// <summary>Leaf node: keys with inline values or references to overflow chains.</summary>
    Leaf = 3,

    /// <summary>Part of a chain holding one large value.</summary>
    Overflow = 4,

    /// <summary>Part of the chain listing free pages.</summary>
    FreeList = 5,
}

/// <summary>
/// The 24-byte header that starts every page of the index file (FORMAT.md §6.1). The checksum covers the
/// whole page after its own four bytes, and the page names its own number, so a page written to the wrong
/// place (or a stale copy) is caught as surely as a torn one.
/// </summary>
/// <param name="Type">Page type.</param>
/// <param name="Count">Entries (leaf), children (branch), page numbers (free list), bytes (overflow).</param>
/// <param name="PageNumber">The page's own number.</param>
/// <param name="Next">Next page of an overflow or free-list chain (0: end).</param>
/// <param name="TxId">The transaction that wrote the page.</param>
internal readonly record struct BTreePageHeader(BTreePageType Type, ushort Count, uint PageNumber, uint Next, ulong TxId)
{
    /// <summary>Bytes of every page.</summary>
    public const int PageSize = 4096;

    /// <summary>Bytes of the header.</summary>
    public const int Size = 24;

    /// <summary>Bytes after the header.</summary>
    public const int Capacity = PageSize - Size;

    /// <summary>Writes the header into the first <see cref="Size"/> bytes of <paramref name="page"/> (checksum left for <see cref="Seal"/>).</summary>
    public void WriteTo(Span<byte> page)
    {
        page[4] = (byte)Type;
        page[5] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(page[6..], Count);
        BinaryPrimitives.WriteUInt32LittleEndian(page[8..], PageNumber);
        BinaryPrimitives.WriteUInt32LittleEndian(page[12..], Next);
        BinaryPrimitives.WriteUInt64LittleEndian(page[16..], TxId);
    }

    /// <summary>Stores the checksum of a fully written page.</summary>
    public static void Seal(Span<byte> page) =>
        BinaryPrimitives.WriteUInt32LittleEndian(page, Crc32C.Compute(page[4..PageSize]));

    /// <summary>
    /// Reads and checks a page's header: the checksum, that it is page <paramref name="pageNumber"/>, and its
    /// type. Returns why it fails, or null.
    /// </summary>
    public static string? TryRead(ReadOnlySpan<byte> page, uint pageNumber, out BTreePageHeader header)
    {
        header = default;
        if (page.Length < PageSize)
        {
            return "short page";
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(page) != Crc32C.Compute(page[4..PageSize]))
        {
            return "checksum fails";
        }
        header = new BTreePageHeader(
            (BTreePageType)page[4],
            BinaryPrimitives.ReadUInt16LittleEndian(page[6..]),
            BinaryPrimitives.ReadUInt32LittleEndian(page[8..]),
            BinaryPrimitives.ReadUInt32LittleEndian(page[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(page[16..]));
        if (header.PageNumber != pageNumber)
        {
            return $"page names itself {header.PageNumber}";
        }
        return header.Type is < BTreePageType.Meta or > BTreePageType.FreeList ? $"unknown page type {(byte)header.Type}" : null;
    }
}

/// <summary>
/// The body of a meta page (pages 0 and 1; transaction <c>t</c> writes page <c>t % 2</c>). The valid meta with
/// the highest transaction id is the tree: writing it is the commit point, and a torn one leaves the other.
/// </summary>
/// <param name="TxId">Transaction id (also in the page header).</param>
/// <param name="Root">Root page (0: empty tree).</param>
/// <param name="FreeList">First page of the free-list chain (0: none).</param>
/// <param name="PageCount">Pages in use by the file (the next page appended gets this number).</param>
/// <param name="EntryCount">Key/value pairs in the tree.</param>
/// <param name="User0">Caller word 0 (the engine: LSN the tree covers).</param>
/// <param name="User1">Caller word 1 (the engine: next LSN).</param>
/// <param name="User2">Caller word 2 (the engine: next session number).</param>
/// <param name="KeyCheck">Check bits of the key that wrote the meta page (0: none; FORMAT.md §13).</param>
internal readonly record struct BTreeMeta(ulong TxId, uint Root, uint FreeList, uint PageCount, ulong EntryCount, ulong User0, ulong User1, ulong User2, ulong KeyCheck)
{
    /// <summary>Id of the key that wrote the meta page; 0 for a writer without a key (FORMAT.md §13).</summary>
    public uint KeyId { get; init; }

    /// <summary>With a key: every record of this LSN or above is sealed, and a plain one is damage (FORMAT.md §13.3).</summary>
    public ulong SealedSince { get; init; }

    /// <summary>"LSMBTREE" little-endian.</summary>
    public const ulong Magic = 0x45455254424D534C;

    /// <summary>How <see cref="TryRead"/> says that the page is from a newer format (the reader must not touch the file).</summary>
    public const string NewerVersionProblem = "newer version";

    /// <summary>
    /// Newest version of the index file format this build reads: 1 for a file written without a key, 2 for one whose
    /// meta pages name a key (it may hold sealed pages, FORMAT.md §13), so a reader without encryption refuses it.
    /// </summary>
    public const uint Version = 2;

    /// <summary>Writes a full meta page for slot <c>TxId % 2</c>, sealed.</summary>
    public void WriteTo(Span<byte> page)
    {
        page[..BTreePageHeader.PageSize].Clear();
        new BTreePageHeader(BTreePageType.Meta, 0, (uint)(TxId % 2), 0, TxId).WriteTo(page);
        var b = page[BTreePageHeader.Size..];
        BinaryPrimitives.WriteUInt64LittleEndian(b, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(b[8..], KeyId == 0 ? 1u : 2u);
        BinaryPrimitives.WriteUInt32LittleEndian(b[12..], BTreePageHeader.PageSize);
        BinaryPrimitives.WriteUInt32LittleEndian(b[16..], Root);
        BinaryPrimitives.WriteUInt32LittleEndian(b[20..], FreeList);
        BinaryPrimitives.WriteUInt32LittleEndian(b[24..], PageCount);
        BinaryPrimitives.WriteUInt32LittleEndian(b[28..], KeyId);
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], EntryCount);
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], User0);
        BinaryPrimitives.WriteUInt64LittleEndian(b[48..], User1);
        BinaryPrimitives.WriteUInt64LittleEndian(b[56..], User2);
        BinaryPrimitives.WriteUInt64LittleEndian(b[64..], KeyCheck);
        BinaryPrimitives.WriteUInt64LittleEndian(b[72..], SealedSince);
        BTreePageHeader.Seal(page);
    }

    /// <summary>Reads meta page <paramref name="slot"/>; null with a reason when it is torn, foreign or newer.</summary>
    public static BTreeMeta? TryRead(ReadOnlySpan<byte> page, uint slot, out string? problem)
    {
        problem = BTreePageHeader.TryRead(page, slot, out var h);
        if (problem is not null)
        {
            return null;
        }
        var b = page[BTreePageHeader.Size..];
        if (h.Type != BTreePageType.Meta || BinaryPrimitives.ReadUInt64LittleEndian(b) != Magic)
        {
            problem = "not a meta page";
            return null;
        }
        var version = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
        if (version > Version)
        {
            problem = $"{NewerVersionProblem}: index file version {version}, this build reads up to {Version}";
            return null;
        }
        if (version < 1 || BinaryPrimitives.ReadUInt32LittleEndian(b[12..]) != BTreePageHeader.PageSize)
        {
            problem = $"index file version {version} with {BinaryPrimitives.ReadUInt32LittleEndian(b[12..])}-byte pages is not one this build knows";
            return null;
        }
        var meta = new BTreeMeta(
            h.TxId,
            BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[40..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[48..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[56..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[64..]))
        {
            KeyId = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]),
            SealedSince = BinaryPrimitives.ReadUInt64LittleEndian(b[72..]),
        };
        if (meta.TxId % 2 != slot || meta.PageCount < 2 || meta.Root >= meta.PageCount || meta.FreeList >= meta.PageCount || (meta.Root is 1) || (meta.FreeList is 1))
        {
            problem = "meta page fields out of range";
            return null;
        }
        return meta;
    }
}
