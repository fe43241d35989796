using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>Frames a payload into a checksummed, optionally LZ4-compressed record, and back.</summary>
internal static class RecordCodec
{
    /// <summary>
    /// Payloads shorter than this are stored raw: below it LZ4's block overhead eats the gain on chat text
    /// (measured in bench/ as RecordCodecBenchmarks).
    /// </summary>
    public const int CompressionThreshold = 96;

    /// <summary>Encodes a record at the end of <paramref name="output"/>; returns its total length.</summary>
    /// <param name="output">Destination buffer.</param>
    /// <param name="header">The header; its lengths and the LZ4 flag are set here.</param>
    /// <param name="payload">Raw payload.</param>
    /// <param name="level">LZ4 level (fast for the write path, HC for archives).</param>
    /// <param name="allowCompression">False stores the payload raw whatever its size (benchmarks, tools).</param>
    /// <param name="cipher">Seals the payload when set (an encrypted store).</param>
    public static int Encode(IBufferWriter<byte> output, RecordHeader header, ReadOnlySpan<byte> payload, LZ4Level level = LZ4Level.L00_FAST, bool allowCompression = true, StoreCipher? cipher = null) =>
        Encode(output, header, payload, level, allowCompression, seal: true, fast: null, cipher);

    /// <summary>
    /// Encodes a record whose checksum (and, with a cipher, seal) the caller writes later (bytes 0..3 are left
    /// unset when <paramref name="seal"/> is false): the write path stamps LSNs into its records afterwards and
    /// seals them then, since the seal authenticates the header and the checksum covers the sealed bytes.
    /// </summary>
    /// <param name="output">Destination buffer.</param>
    /// <param name="header">The header; its lengths and the LZ4 flag are set here.</param>
    /// <param name="payload">Raw payload.</param>
    /// <param name="level">LZ4 level.</param>
    /// <param name="allowCompression">False stores the payload raw whatever its size.</param>
    /// <param name="seal">False leaves the checksum (bytes 0..3), and the sealing, to the caller (<see cref="Seal"/>).</param>
    /// <param name="fast">
    /// At <see cref="LZ4Level.L00_FAST"/>, compresses with this encoder (same bytes as LZ4Codec, without a fresh
    /// state per call); null uses LZ4Codec.
    /// </param>
    /// <param name="cipher">When set, the record is laid out sealed (key id, nonce, payload, tag) and sealed with it.</param>
    internal static int Encode(IBufferWriter<byte> output, RecordHeader header, ReadOnlySpan<byte> payload, LZ4Level level, bool allowCompression, bool seal, Lz4FastEncoder? fast = null, StoreCipher? cipher = null)
    {
        if (payload.Length > RecordHeader.MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"A record payload may hold at most {RecordHeader.MaxPayload} bytes.");
        }
        var envelope = cipher is null ? 0 : StoreCipher.Overhead;
        var max = RecordHeader.Size + Math.Max(payload.Length, LZ4Codec.MaximumOutputSize(payload.Length)) + envelope;
        var dest = output.GetSpan(max);
        var body = dest[(RecordHeader.Size + (cipher is null ? 0 : StoreCipher.KeyIdSize + StoreCipher.NonceSize))..];
        var flags = header.Flags & ~(RecordFlags.Lz4 | RecordFlags.Sealed);
        var stored = payload.Length;
        var compressed = false;
        if (allowCompression && payload.Length >= CompressionThreshold)
        {
            var n = fast is not null && level == LZ4Level.L00_FAST ? fast.Encode(payload, body) : LZ4Codec.Encode(payload, body, level);
            if (n > 0 && n < payload.Length - (payload.Length >> 4))
            {
                stored = n;
                compressed = true;
                flags |= RecordFlags.Lz4;
            }
        }
        if (!compressed)
        {
            payload.CopyTo(body);
        }
        if (cipher is not null)
        {
            flags |= RecordFlags.Sealed;
            stored += envelope;
        }
        var h = header with { Flags = flags, StoredLength = (uint)stored, RawLength = (uint)payload.Length };
        h.WriteTo(dest);
        var total = RecordHeader.Size + stored;
        if (seal)
        {
            Seal(dest[..total], cipher);
        }
        output.Advance(total);
        return total;
    }

    /// <summary>
    /// Finishes a framed record whose header is final: seals its payload when it is laid out sealed (with
    /// <paramref name="cipher"/>), then writes its checksum.
    /// </summary>
    public static void Seal(Span<byte> record, StoreCipher? cipher)
    {
        if (((RecordFlags)record[7] & RecordFlags.Sealed) != 0)
        {
            (cipher ?? throw new InvalidOperationException("A record laid out sealed needs the cipher that laid it out.")).SealRecord(record);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(record, Crc32C.Compute(record[4..]));
    }

    /// <summary>Checks a whole record (header and stored payload): true when its checksum holds.</summary>
    public static bool Verify(ReadOnlySpan<byte> record, out RecordHeader header)
    {
        if (!RecordHeader.TryRead(record, out header, out var crc) || record.Length < header.TotalLength)
        {
            return false;
        }
        return Crc32C.Compute(record[4..header.TotalLength]) == crc;
    }

    /// <summary>
    /// Decodes the payload of a verified record into a pooled buffer; the caller returns it with
    /// <see cref="ArrayPool{T}.Return"/>. Returns the payload length.
    /// </summary>
    /// <param name="record">The record (header and stored payload).</param>
    /// <param name="header">Its header.</param>
    /// <param name="cipher">The store's keys; needed for a sealed record.</param>
    /// <param name="buffer">The decoded payload.</param>
    /// <exception cref="InvalidDataException">The payload does not authenticate or decompress to its declared size.</exception>
    /// <exception cref="EncryptionKeyException">The record is sealed with a key the store was not given.</exception>
    public static int DecodePayload(ReadOnlySpan<byte> record, in RecordHeader header, StoreCipher? cipher, out byte[] buffer)
    {
        var stored = record.Slice(RecordHeader.Size, (int)header.StoredLength);
        byte[]? opened = null;
        try
        {
            if (cipher is not null && cipher.IsForgedPlain(header))
            {
                throw new InvalidDataException($"A plain record at LSN {header.Lsn}, where every record is sealed (from LSN {cipher.SealedSince}).");
            }
            if ((header.Flags & RecordFlags.Sealed) != 0)
            {
                if (cipher is null)
                {
                    var id = BinaryPrimitives.ReadUInt32LittleEndian(stored);
                    throw new EncryptionKeyException($"A record is sealed with key {id:x8}, and the store was opened without a key.", id);
                }
                opened = ArrayPool<byte>.Shared.Rent(Math.Max(1, stored.Length - StoreCipher.Overhead));
                var n = cipher.OpenRecord(record, header, opened);
                stored = opened.AsSpan(0, n);
            }
            return Decode(stored, header, out buffer);
        }
        finally
        {
            if (opened is not null)
            {
                ArrayPool<byte>.Shared.Return(opened);
            }
        }
    }

    /// <summary>Decodes a payload that is not sealed (tools and tests of plain records).</summary>
    /// <exception cref="InvalidDataException">The payload does not decompress to its declared size.</exception>
    /// <exception cref="EncryptionKeyException">The record is sealed.</exception>
    public static int DecodePayload(ReadOnlySpan<byte> record, in RecordHeader header, out byte[] buffer) =>
        DecodePayload(record, header, null, out buffer);

    private static int Decode(ReadOnlySpan<byte> stored, in RecordHeader header, out byte[] buffer)
    {
        buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, (int)header.RawLength));
        if ((header.Flags & RecordFlags.Lz4) == 0)
        {
            if (stored.Length != header.RawLength)
            {
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = [];
                throw new InvalidDataException($"Payload holds {stored.Length} bytes, header says {header.RawLength}.");
            }
            stored.CopyTo(buffer);
            return stored.Length;
        }
        var n = LZ4Codec.Decode(stored, buffer.AsSpan(0, (int)header.RawLength));
        if (n != header.RawLength)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = [];
            throw new InvalidDataException($"LZ4 payload decoded to {n} bytes, header says {header.RawLength}.");
        }
        return n;
    }
}
