using System.Buffers.Binary;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// The fixed 64-byte header in front of every record (little-endian):
/// <code>
///  0 u32 crc32c   over bytes 4..63 of the header and the stored payload
///  4 u16 magic    0x4D4C ("LM")
///  6 u8  type     RecordType
///  7 u8  flags    RecordFlags
///  8 u32 stored   payload bytes that follow the header
/// 12 u32 raw      payload bytes after decompression (= stored when not compressed)
/// 16 u64 session  internal session number
/// 24 u64 lsn      log sequence number, unique and increasing across the store
/// 32 i64 sequence message sequence in its session (Message), else the session's last sequence
/// 40 i64 time     message timestamp, UTC ticks (other types: FORMAT.md §4.1)
/// 48 i64 written  when the record was written, UTC ticks (session activity)
/// 56 u8  role     MessageRole (Message), else 0
/// 57 u8  reserved 0
/// 58 u16 reserved 0
/// (flags bit 2 Sealed: the stored payload is key id, nonce, sealed bytes, tag; stored = sealed bytes + 32)
/// 60 i32 tokens   token count (Message), else 0
/// </code>
/// </summary>
internal readonly record struct RecordHeader(
    RecordType Type,
    RecordFlags Flags,
    uint StoredLength,
    uint RawLength,
    ulong Session,
    ulong Lsn,
    long Sequence,
    long TimeTicks,
    long WrittenTicks,
    byte Role,
    int Tokens)
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 64;

    /// <summary>The magic number at offset 4.</summary>
    public const ushort Magic = 0x4D4C;

    /// <summary>Largest payload a record may hold (16 MiB): a length above it is corruption, never an allocation.</summary>
    public const int MaxPayload = 16 * 1024 * 1024;

    /// <summary>Total record size on disk.</summary>
    public int TotalLength => Size + (int)StoredLength;

    /// <summary>Writes the header (without the checksum, which <see cref="RecordCodec"/> fills in).</summary>
    public void WriteTo(Span<byte> dest)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(dest[4..], Magic);
        dest[6] = (byte)Type;
        dest[7] = (byte)Flags;
        BinaryPrimitives.WriteUInt32LittleEndian(dest[8..], StoredLength);
        BinaryPrimitives.WriteUInt32LittleEndian(dest[12..], RawLength);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[16..], Session);
        BinaryPrimitives.WriteUInt64LittleEndian(dest[24..], Lsn);
        BinaryPrimitives.WriteInt64LittleEndian(dest[32..], Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(dest[40..], TimeTicks);
        BinaryPrimitives.WriteInt64LittleEndian(dest[48..], WrittenTicks);
        dest[56] = Role;
        dest[57] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(dest[58..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(dest[60..], Tokens);
    }

    /// <summary>
    /// Reads a header and checks what can be checked without the payload: magic, type, bounded lengths and
    /// timestamps in range.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> src, out RecordHeader header, out uint crc)
    {
        header = default;
        crc = 0;
        if (src.Length < Size || BinaryPrimitives.ReadUInt16LittleEndian(src[4..]) != Magic)
        {
            return false;
        }
        var type = (RecordType)src[6];
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(src[8..]);
        var raw = BinaryPrimitives.ReadUInt32LittleEndian(src[12..]);
        var flags = (RecordFlags)src[7];
        var sealedBytes = (flags & RecordFlags.Sealed) != 0 ? StoreCipher.Overhead : 0;
        if (type is < RecordType.Message or > RecordType.SessionDelete || stored > MaxPayload + sealedBytes || raw > MaxPayload
            || stored < sealedBytes || ((flags & RecordFlags.Lz4) == 0 && raw != stored - sealedBytes) || (byte)flags > 7)
        {
            return false;
        }
        crc = BinaryPrimitives.ReadUInt32LittleEndian(src);
        header = new RecordHeader(
            type,
            flags,
            stored,
            raw,
            BinaryPrimitives.ReadUInt64LittleEndian(src[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(src[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[40..]),
            BinaryPrimitives.ReadInt64LittleEndian(src[48..]),
            src[56],
            BinaryPrimitives.ReadInt32LittleEndian(src[60..]));
        if (!PayloadReader.IsValidTicks(header.TimeTicks) || !PayloadReader.IsValidTicks(header.WrittenTicks))
        {
            // Every writer stores the ticks of a real DateTimeOffset: anything else is damage.
            header = default;
            crc = 0;
            return false;
        }
        return true;
    }
}
