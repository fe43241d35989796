using System.Buffers.Binary;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>What a file is, named by the first 8 bytes of its header.</summary>
internal enum FileKind : byte
{
    /// <summary>A per-session segment (<c>seg/*.seg</c>).</summary>
    Segment = 1,

    /// <summary>A commit log (<c>wal/*.log</c>).</summary>
    CommitLog = 2,

    /// <summary>The snapshot checkpoint of earlier builds (<c>index.ckpt</c>); no longer written (the index file replaced it).</summary>
    Checkpoint = 3,

    /// <summary>A pack: the compacted records of several small sessions (<c>pack/*.pack</c>).</summary>
    Pack = 4,
}

/// <summary>
/// The 32-byte header at offset 0 of every segment, commit log and checkpoint file (little-endian):
/// <code>
///  0 u8[6] magic  "LSMEM\0"
///  6 u8    kind   FileKind
///  7 u8    zero
///  8 u16   format version (1)
/// 10 u16   header size (32)
/// 12 u32   key id: the key the file's writer sealed with (0: none; FORMAT.md §13)
/// 16 u64   owner: session number (segment), first LSN (commit log), covered LSN (checkpoint), pack number (pack)
/// 24 u32   sequence: segment number within the session (segment), else 0
/// 28 u32   crc32c of bytes 0..27
/// </code>
/// </summary>
internal readonly record struct FileHeader(FileKind Kind, ushort Version, ulong Owner, uint Sequence, uint KeyId = 0)
{
    /// <summary>Header size.</summary>
    public const int Size = 32;

    /// <summary>The newest format version this code reads.</summary>
    public const ushort CurrentVersion = 2;

    /// <summary>
    /// The version a writer gives a file it creates: 1 without a key, 2 with one (its records are sealed, FORMAT.md
    /// §13), so a reader that knows no encryption refuses the store rather than take sealed records for damage.
    /// </summary>
    public static ushort VersionFor(uint keyId) => keyId == 0 ? (ushort)1 : (ushort)2;

    private static ReadOnlySpan<byte> Magic => "LSMEM\0"u8;

    /// <summary>Writes the header.</summary>
    public void WriteTo(Span<byte> dest)
    {
        dest[..Size].Clear();
        Magic.CopyTo(dest);
        dest[6] = (byte)Kind;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[8..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(dest[10..], Size);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[12..], KeyId);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[16..], Owner);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[24..], Sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[28..], Crc32C.Compute(dest[..28]));
    }

    /// <summary>Reads and checks a header.</summary>
    public static FileHeaderStatus TryRead(ReadOnlySpan<byte> src, FileKind expected, out FileHeader header)
    {
        header = default;
        if (src.Length < Size)
        {
            return FileHeaderStatus.Torn;
        }
        if (!src[..6].SequenceEqual(Magic))
        {
            return FileHeaderStatus.Foreign;
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(src[28..]) != Crc32C.Compute(src[..28]))
        {
            return FileHeaderStatus.Corrupt;
        }
        header = new FileHeader((FileKind)src[6], BinaryPrimitives.ReadUInt16LittleEndian(src[8..]), BinaryPrimitives.ReadUInt64LittleEndian(src[16..]), BinaryPrimitives.ReadUInt32LittleEndian(src[24..]), BinaryPrimitives.ReadUInt32LittleEndian(src[12..]));
        if (header.Kind != expected)
        {
            return FileHeaderStatus.Foreign;
        }
        return header.Version > CurrentVersion ? FileHeaderStatus.NewerVersion : FileHeaderStatus.Ok;
    }
}

/// <summary>Outcome of reading a file header.</summary>
internal enum FileHeaderStatus
{
    /// <summary>Valid.</summary>
    Ok,

    /// <summary>Shorter than a header: a file whose creation was cut by a crash.</summary>
    Torn,

    /// <summary>Not one of ours, or another kind of ours.</summary>
    Foreign,

    /// <summary>Ours, but the checksum fails.</summary>
    Corrupt,

    /// <summary>Written by a newer format version than this reader knows.</summary>
    NewerVersion,
}
