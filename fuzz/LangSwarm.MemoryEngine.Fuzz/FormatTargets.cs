using System.Buffers;
using System.Buffers.Binary;
using K4os.Compression.LZ4;
using LangSwarm.MemoryEngine.Engine;
using LangSwarm.MemoryEngine.Format.Codecs;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Index.BTree;
using LangSwarm.MemoryEngine.Recovery;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Testing;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>The byte-level targets: one record, a scanned range, an index file.</summary>
internal static class FormatTargets
{
    /// <summary>
    /// <c>record</c>: input = mode byte, then a record. Mode bit 0 recomputes the record's checksum first, so
    /// mutated headers and payloads get past <see cref="RecordCodec.Verify"/> into the payload codecs.
    /// </summary>
    public static void Record(ReadOnlySpan<byte> input)
    {
        if (!TakeRecord(input, out var mode, out var record))
        {
            return;
        }
        Invariants.Expect("RecordCodec.Verify/DecodePayload", () =>
        {
            if (!RecordCodec.Verify(record, out var header))
            {
                return;
            }
            Invariants.Check(header.TotalLength <= record.Length, "Verify accepted a record longer than its bytes");
            var n = RecordCodec.DecodePayload(record, header, out var buffer);
            try
            {
                Invariants.Check(n == header.RawLength, $"DecodePayload returned {n} bytes, header says {header.RawLength}");
                var payload = buffer.AsSpan(0, n).ToArray();
                DecodeAs(header.Type, header, payload);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
        // Every payload codec on the raw bytes after the header, whatever the type says.
        var body = record.Length > RecordHeader.Size ? record[RecordHeader.Size..] : record;
        RecordHeader.TryRead(record, out var h, out _);
        foreach (var type in new[] { RecordType.Message, RecordType.SessionState, RecordType.Summary, RecordType.Evict })
        {
            DecodeAs(type, h, body);
        }
    }

    /// <summary>
    /// The record targets' input: a mode byte, then the record (its checksum recomputed first when mode bit 0 is
    /// set). False for an empty input.
    /// </summary>
    private static bool TakeRecord(ReadOnlySpan<byte> input, out byte mode, out byte[] record)
    {
        mode = 0;
        record = [];
        if (input.IsEmpty)
        {
            return false;
        }
        mode = input[0];
        record = input[1..].ToArray();
        if ((mode & 1) != 0)
        {
            FixRecordCrc(record, 0);
        }
        return true;
    }

    /// <summary>
    /// <c>record-sealed</c>: input = mode byte, then a record sealed with the test key (FORMAT.md §13.1). Mode bit 0
    /// recomputes the checksum first, so mutations reach the seal. A sealed record that verifies is opened with the
    /// key (mode bits 1 and 2 clear), with no key (bit 1) or with only the wrong key (bit 2, bit 1 clear). With the
    /// key, a record that opens must be one the test key sealed, header and payload unchanged: no mutation of the
    /// header, key id, nonce, ciphertext or tag may authenticate. Without the key, or with the wrong one, decoding a
    /// sealed record naming the test key MUST throw <see cref="EncryptionKeyException"/> and nothing else. A record
    /// whose mutated flags say it is not sealed is decoded as a plain record.
    /// </summary>
    public static void RecordSealed(ReadOnlySpan<byte> input)
    {
        if (!TakeRecord(input, out var mode, out var record))
        {
            return;
        }
        if (!RecordHeader.TryRead(record, out var h, out _) || !RecordCodec.Verify(record, out h))
        {
            return;
        }
        var isSealed = (h.Flags & RecordFlags.Sealed) != 0;
        var keyId = isSealed && h.StoredLength >= StoreCipher.KeyIdSize ? BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(RecordHeader.Size)) : 0u;
        var cipher = (mode & 2) != 0 ? null : (mode & 4) != 0 ? Sealing.WrongCipher : Sealing.Cipher;
        if (isSealed && cipher != Sealing.Cipher && keyId == Sealing.Cipher.KeyId)
        {
            try
            {
                var n = RecordCodec.DecodePayload(record, h, cipher, out var buffer);
                ArrayPool<byte>.Shared.Return(buffer);
                throw new InvariantViolationException($"a record sealed with the test key decoded ({n} bytes) {(cipher is null ? "without a key" : "with the wrong key")}");
            }
            catch (EncryptionKeyException)
            {
                return; // the typed refusal
            }
            catch (Exception ex) when (ex is not InvariantViolationException)
            {
                throw new InvariantViolationException($"decoding a sealed record without its key threw {ex.GetType().FullName}, not EncryptionKeyException: {ex.Message}", ex);
            }
        }
        Invariants.Expect("RecordCodec.DecodePayload (sealed)", () =>
        {
            var n = RecordCodec.DecodePayload(record, h, cipher, out var buffer);
            try
            {
                Invariants.Check(n == h.RawLength, $"DecodePayload returned {n} bytes, header says {h.RawLength}");
                var payload = buffer.AsSpan(0, n).ToArray();
                if (isSealed)
                {
                    Invariants.Check(
                        cipher == Sealing.Cipher && Seeds.IsAuthenticSealed(record.AsSpan(4, RecordHeader.Size - 4), payload),
                        "a mutated sealed record authenticated: its header or payload is not one the test key sealed");
                }
                DecodeAs(h.Type, h, payload);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        });
    }

    private static void DecodeAs(RecordType type, RecordHeader header, byte[] payload)
    {
        switch (type)
        {
            case RecordType.Message:
                Invariants.Expect("MessageCodec.Read", () => MessageCodec.Read(header, payload));
                break;
            case RecordType.SessionState:
                Invariants.Expect("StateCodec.Read", () => StateCodec.Read(payload));
                break;
            case RecordType.Summary:
                Invariants.Expect("SummaryCodec.Read", () => SummaryCodec.Read(payload, "s"));
                break;
            case RecordType.Evict:
                Invariants.Expect("EvictCodec.Read", () => Invariants.Check(EvictCodec.Read(payload).Length <= payload.Length, "EvictCodec returned more sequences than bytes"));
                break;
            default:
                break;
        }
    }

    /// <summary><c>scan</c>: <see cref="StreamingRecordScanner"/> (skipping damage, as for commit logs) over arbitrary bytes, checking what it reports.</summary>
    public static void Scan(ReadOnlySpan<byte> input)
    {
        const long Base = FileHeader.Size;
        var data = input.ToArray();
        Invariants.Expect("StreamingRecordScanner.Scan", () =>
        {
            var last = -1L;
            var visited = 0;
            var result = StreamingRecordScanner.Scan(
                (at, buffer) =>
                {
                    var n = (int)Math.Min(buffer.Length, Base + data.Length - at);
                    data.AsSpan((int)(at - Base), n).CopyTo(buffer);
                    return n;
                },
                Base,
                Base + data.Length,
                (long offset, in RecordHeader h, ReadOnlySpan<byte> record) =>
            {
                Invariants.Check(offset > last && offset >= Base && offset - Base + record.Length <= data.Length, $"record at {offset} out of order or out of range");
                Invariants.Check(record.Length == h.TotalLength && RecordCodec.Verify(record, out _), $"visited record at {offset} does not verify");
                last = offset;
                visited++;
            },
                resync: true);
            Invariants.Check(result.Records == visited, "record count differs from visits");
            Invariants.Check(result.ValidEnd >= Base && result.ValidEnd <= Base + data.Length, $"ValidEnd {result.ValidEnd} outside the range");
            var prevEnd = Base;
            foreach (var (offset, length) in result.Damage)
            {
                Invariants.Check(offset >= prevEnd && length > 0 && offset + length <= Base + data.Length, $"damage span {offset}+{length} out of range or overlapping");
                prevEnd = offset + length;
            }
        });
    }

    /// <summary>
    /// <c>index</c>: input = mode byte, then the bytes of an index file (<c>index.btree</c>). Mode bit 0
    /// recomputes every page's checksum first, so mutated pages get past the check into the node and meta
    /// parsers. The tree is opened, checked and scanned whole; unless mode bit 2 is set, an engine then opens
    /// a store holding the file and reads every session back.
    /// </summary>
    public static void Index(ReadOnlySpan<byte> input) => IndexFileTarget(input, sealedFile: false);

    /// <summary>
    /// <c>index-sealed</c>: as <c>index</c>, on the index file of a store written with the test key (sealed pages,
    /// meta pages naming the key), opened with that key. Mode bit 1 opens it with no key instead: then only
    /// <see cref="EncryptionKeyException"/> or another documented failure may escape, and an engine open of a store
    /// whose newest valid meta page names a key MUST be refused with <see cref="EncryptionKeyException"/>.
    /// </summary>
    public static void IndexSealed(ReadOnlySpan<byte> input) => IndexFileTarget(input, sealedFile: true);

    private static void IndexFileTarget(ReadOnlySpan<byte> input, bool sealedFile)
    {
        if (input.IsEmpty)
        {
            return;
        }
        var mode = input[0];
        var bytes = input[1..].ToArray();
        if ((mode & 1) != 0)
        {
            FixPageCrcs(bytes);
        }
        var keyless = sealedFile && (mode & 2) != 0;
        var cipher = sealedFile && !keyless ? Sealing.Cipher : null;
        var fs = new FaultInjectingFileSystem();
        WriteFile(fs, IndexFile.FileName, bytes);
        Invariants.Expect("BPlusTree.Open/Check/Scan", () =>
        {
            using var tree = BPlusTree.Open(fs, IndexFile.FileName, PageFile.DefaultCacheBytes, cipher);
            tree.Check();
            var entries = 0UL;
            tree.Scan([], [0xFF, 0xFF], (_, _) =>
            {
                entries++;
                return true;
            });
            Invariants.Check(entries <= (ulong)bytes.Length, "the tree returned more entries than its file has bytes");
        });
        if ((mode & 4) != 0)
        {
            return;
        }
        if (keyless && NewestMetaKeyId(bytes) is not 0)
        {
            var refused = StoreTarget.OpenAndRead(fs, written: null, provider: null);
            Invariants.Check(refused is EncryptionKeyException, $"an open without a key of a store whose index file names a key was not refused with EncryptionKeyException (got {refused?.GetType().FullName ?? "no exception"})");
            return;
        }
        StoreTarget.OpenAndRead(fs, written: null, provider: cipher is null ? null : Sealing.Provider);
    }

    /// <summary>The key id named by the newer valid meta page of an index file (0: none, or no valid meta page).</summary>
    internal static uint NewestMetaKeyId(byte[] file)
    {
        BTreeMeta? best = null;
        var page = new byte[BTreePageHeader.PageSize];
        for (uint slot = 0; slot < 2; slot++)
        {
            Array.Clear(page);
            var at = (int)slot * BTreePageHeader.PageSize;
            if (at < file.Length)
            {
                file.AsSpan(at, Math.Min(BTreePageHeader.PageSize, file.Length - at)).CopyTo(page);
            }
            if (BTreeMeta.TryRead(page, slot, out _) is { } m && (best is null || m.TxId > best.Value.TxId))
            {
                best = m;
            }
        }
        return best?.KeyId ?? 0;
    }

    /// <summary>Recomputes the checksum of every whole page of an index file.</summary>
    public static void FixPageCrcs(byte[] data)
    {
        for (var at = 0; at + BTreePageHeader.PageSize <= data.Length; at += BTreePageHeader.PageSize)
        {
            BTreePageHeader.Seal(data.AsSpan(at, BTreePageHeader.PageSize));
        }
    }

    /// <summary>Recomputes the checksum of the record at <paramref name="at"/> when its header parses and fits.</summary>
    public static bool FixRecordCrc(byte[] data, int at)
    {
        if (at < 0 || !RecordHeader.TryRead(data.AsSpan(at), out var h, out _) || at + (long)h.TotalLength > data.Length)
        {
            return false;
        }
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(at), Crc32C.Compute(data.AsSpan(at + 4, h.TotalLength - 4)));
        return true;
    }

    /// <summary>Recomputes the 32-byte file header's checksum.</summary>
    public static void FixFileHeaderCrc(byte[] data)
    {
        if (data.Length >= FileHeader.Size)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(28), Crc32C.Compute(data.AsSpan(0, 28)));
        }
    }

    /// <summary>Writes a durable file (and its directory entry) on the in-memory device.</summary>
    public static void WriteFile(FaultInjectingFileSystem fs, string path, byte[] bytes)
    {
        var slash = path.LastIndexOf('/');
        var dir = slash < 0 ? string.Empty : path[..slash];
        fs.CreateDirectory(dir);
        using (var f = fs.Open(path, create: true))
        {
            f.SetLength(0);
            f.Write(0, bytes);
            f.Flush();
        }
        fs.SyncDirectory(dir);
    }

    /// <summary>Options for an engine on <paramref name="fs"/>.</summary>
    public static EngineOptions Options(IFileSystem fs, IKeyProvider? encryption = null) => new() { Path = "fuzz-store", FileSystem = fs, Durability = DurabilityMode.Strict, Encryption = encryption };
}
