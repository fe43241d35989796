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
    public static int Encode(IBufferWriter<byte> output, RecordHeader header, ReadOnlySpan<byte> payload, LZ4Level level = LZ4Level.L00_FAST, bool allowCompression = true) =>
        Encode(output, header, payload, level, allowCompression, seal: true);

    /// <summary>
    /// Encodes a record whose checksum the caller writes later (bytes 0..3 are left unset when
    /// <paramref name="seal"/> is false): the write path stamps LSNs into its records afterwards and seals them
    /// then, so computing the checksum here as well would be done twice per record.
    /// </summary>
    /// <param name="output">Destination buffer.</param>
    /// <param name="header">The header; its lengths and the LZ4 flag are set here.</param>
    /// <param name="payload">Raw payload.</param>
    /// <param name="level">LZ4 level.</param>
    /// <param name="allowCompression">False stores the payload raw whatever its size.</param>
    /// <param name="seal">False leaves the checksum (bytes 0..3) for the caller to write.</param>
    /// <param name="fast">
    /// At <see cref="LZ4Level.L00_FAST"/>, compresses with this encoder (same bytes as LZ4Codec, without a fresh
    /// state per call); null uses LZ4Codec.
    /// </param>
    internal static int Encode(IBufferWriter<byte> output, RecordHeader header, ReadOnlySpan<byte> payload, LZ4Level level, bool allowCompression, bool seal, Lz4FastEncoder? fast = null)
    {
        if (payload.Length > RecordHeader.MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), payload.Length, $"A record payload may hold at most {RecordHeader.MaxPayload} bytes.");
        }
        var max = RecordHeader.Size + Math.Max(payload.Length, LZ4Codec.MaximumOutputSize(payload.Length));
        var dest = output.GetSpan(max);
        var body = dest[RecordHeader.Size..];
        var flags = header.Flags & ~RecordFlags.Lz4;
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
        var h = header with { Flags = flags, StoredLength = (uint)stored, RawLength = (uint)payload.Length };
        h.WriteTo(dest);
        if (seal)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(dest, Crc32C.Compute(dest[4..(RecordHeader.Size + stored)]));
        }
        output.Advance(RecordHeader.Size + stored);
        return RecordHeader.Size + stored;
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
    /// <exception cref="InvalidDataException">The payload does not decompress to its declared size.</exception>
    public static int DecodePayload(ReadOnlySpan<byte> record, in RecordHeader header, out byte[] buffer)
    {
        var stored = record.Slice(RecordHeader.Size, (int)header.StoredLength);
        buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, (int)header.RawLength));
        if ((header.Flags & RecordFlags.Lz4) == 0)
        {
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
