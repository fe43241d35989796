using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace LangSwarm.MemoryEngine.Format;

/// <summary>
/// Seals records and index pages with AES-256-GCM under a store's keys (FORMAT.md §13): the current key for
/// everything written, earlier keys to read what is not yet rewritten. A sealed unit carries the id of its key
/// and its nonce; the nonce is 8 random bytes drawn per cipher (and again every 2³² seals) and a 4-byte counter,
/// so no two seals under one key share a nonce, whatever a crash did to a file's tail.
/// </summary>
internal sealed class StoreCipher : IDisposable
{
    /// <summary>Bytes of a key id.</summary>
    public const int KeyIdSize = 4;

    /// <summary>Bytes of a nonce.</summary>
    public const int NonceSize = 12;

    /// <summary>Bytes of an authentication tag.</summary>
    public const int TagSize = 16;

    /// <summary>What sealing adds to a record's stored payload or takes from a page: key id, nonce and tag.</summary>
    public const int Overhead = KeyIdSize + NonceSize + TagSize;

    /// <summary>Start of a sealed page's trailer (key id, nonce, tag): the page's last <see cref="Overhead"/> bytes.</summary>
    public const int PageTrailer = BTreePageHeader.PageSize - Overhead;

    /// <summary>Bytes a sealed page holds after its header.</summary>
    public const int SealedPageCapacity = PageTrailer - BTreePageHeader.Size;

    /// <summary>Page header byte 5: 1 when the page is sealed.</summary>
    public const int PageSealedFlag = 5;

    private readonly Dictionary<uint, Key> _keys = [];
    private readonly Key _current;
    private NonceBlock _nonces = new();

    private StoreCipher(EncryptionKey current, IReadOnlyList<EncryptionKey> previous)
    {
        _current = new Key(current);
        _keys[current.Id] = _current;
        foreach (var k in previous)
        {
            _keys.TryAdd(k.Id, new Key(k));
        }
    }

    /// <summary>
    /// The LSN from which every record of the store is sealed (FORMAT.md §13.3): a plain record at or above it was
    /// not written by a writer with a key, so it is damage, however valid its checksum. 0 for a store that always had
    /// a key (or whose plain data a rekey rewrote); <see cref="ulong.MaxValue"/> while the first open with a key of a
    /// plain store recovers (its plain log records are genuine); the meta pages keep it.
    /// </summary>
    public ulong SealedSince
    {
        get => Interlocked.Read(ref _sealedSince);
        set => Interlocked.Exchange(ref _sealedSince, value);
    }

    private ulong _sealedSince;

    /// <summary>True when <paramref name="h"/> is a plain record where only sealed ones can be.</summary>
    public bool IsForgedPlain(in RecordHeader h) => (h.Flags & RecordFlags.Sealed) == 0 && h.Lsn >= SealedSince;

    /// <summary>The current key's id: the one every seal uses.</summary>
    public uint KeyId => _current.Id;

    /// <summary>The current key's check bits (kept in the index file's meta page).</summary>
    public ulong KeyCheck => _current.Check;

    /// <summary>A cipher of the provider's keys; null without a provider (the store is not encrypted).</summary>
    /// <exception cref="ArgumentException">The provider gives no current key.</exception>
    public static StoreCipher? From(IKeyProvider? provider)
    {
        if (provider is null)
        {
            return null;
        }
        var current = provider.CurrentKey ?? throw new ArgumentException("The key provider gave no current key.", nameof(provider));
        return new StoreCipher(current, provider.PreviousKeys ?? []);
    }

    /// <summary>True when this cipher holds the key named <paramref name="keyId"/>.</summary>
    public bool Knows(uint keyId) => _keys.ContainsKey(keyId);

    /// <summary>
    /// Null when the key <paramref name="keyId"/> with check bits <paramref name="check"/> is one this cipher holds,
    /// else why not (a key that is missing, or another key with the same id).
    /// </summary>
    public string? Problem(uint keyId, ulong check) =>
        !_keys.TryGetValue(keyId, out var k) ? $"it is sealed with key {keyId:x8}, which this open was not given"
        : k.Check != check ? $"the key given as {keyId:x8} is not the key it is sealed with"
        : null;

    /// <summary>
    /// Seals a framed record in place: <paramref name="record"/> is its 64-byte header (lengths, flags and LSN
    /// final) and a stored payload laid out as key id, nonce, the payload to seal, tag. The checksum is left to
    /// the caller (it covers the sealed bytes).
    /// </summary>
    public void SealRecord(Span<byte> record)
    {
        var envelope = record[RecordHeader.Size..];
        Seal(envelope[..KeyIdSize], envelope.Slice(KeyIdSize, NonceSize), envelope[(KeyIdSize + NonceSize)..^TagSize], envelope[^TagSize..], record[4..RecordHeader.Size]);
    }

    /// <summary>
    /// Opens a sealed record's payload into <paramref name="inner"/> (at least stored − <see cref="Overhead"/>
    /// bytes); returns its length.
    /// </summary>
    /// <exception cref="EncryptionKeyException">The record names a key this cipher does not hold.</exception>
    /// <exception cref="InvalidDataException">The payload does not authenticate (damaged or forged).</exception>
    public int OpenRecord(ReadOnlySpan<byte> record, in RecordHeader h, Span<byte> inner)
    {
        var envelope = record.Slice(RecordHeader.Size, (int)h.StoredLength);
        var sealedBytes = envelope[(KeyIdSize + NonceSize)..^TagSize];
        Open(envelope[..KeyIdSize], envelope.Slice(KeyIdSize, NonceSize), sealedBytes, envelope[^TagSize..], record[4..RecordHeader.Size], inner[..sealedBytes.Length], "record");
        return sealedBytes.Length;
    }

    /// <summary>
    /// Seals a page in place: sets its sealed flag, encrypts bytes 24 to <see cref="PageTrailer"/> and writes the
    /// trailer. The content MUST fit in <see cref="SealedPageCapacity"/> bytes; the checksum is left to the caller.
    /// </summary>
    public void SealPage(Span<byte> page)
    {
        page[PageSealedFlag] = 1;
        var body = page[BTreePageHeader.Size..PageTrailer];
        var trailer = page[PageTrailer..BTreePageHeader.PageSize];
        Seal(trailer[..KeyIdSize], trailer.Slice(KeyIdSize, NonceSize), body, trailer[^TagSize..], page[4..BTreePageHeader.Size]);
    }

    /// <summary>
    /// Opens a sealed page in place, leaving the page as it was before <see cref="SealPage"/> (flag and trailer
    /// zero), so parsing it is the same as parsing a page that was never sealed.
    /// </summary>
    /// <exception cref="EncryptionKeyException">The page names a key this cipher does not hold.</exception>
    /// <exception cref="InvalidDataException">The page does not authenticate.</exception>
    public void OpenPage(Span<byte> page)
    {
        var body = page[BTreePageHeader.Size..PageTrailer];
        var trailer = page[PageTrailer..BTreePageHeader.PageSize];
        Open(trailer[..KeyIdSize], trailer.Slice(KeyIdSize, NonceSize), body, trailer[^TagSize..], page[4..BTreePageHeader.Size], body, "index page");
        trailer.Clear();
        page[PageSealedFlag] = 0;
    }

    public void Dispose()
    {
        foreach (var k in _keys.Values)
        {
            k.Dispose();
        }
    }

    private void Seal(Span<byte> keyId, Span<byte> nonce, Span<byte> data, Span<byte> tag, ReadOnlySpan<byte> associated)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(keyId, _current.Id);
        NextNonce(nonce);
        var aes = _current.Rent();
        try
        {
            aes.Encrypt(nonce, data, data, tag, associated);
        }
        finally
        {
            _current.Return(aes);
        }
    }

    private void Open(ReadOnlySpan<byte> keyId, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> data, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associated, Span<byte> plain, string what)
    {
        var id = BinaryPrimitives.ReadUInt32LittleEndian(keyId);
        if (!_keys.TryGetValue(id, out var key))
        {
            throw new EncryptionKeyException($"A sealed {what} names key {id:x8}, which this open was not given (give it as a previous key of the key provider).", id);
        }
        var aes = key.Rent();
        try
        {
            aes.Decrypt(nonce, data, tag, plain, associated);
        }
        catch (AuthenticationTagMismatchException)
        {
            // The key is right (the id says so), so the bytes are not what the writer sealed.
            throw new InvalidDataException($"A sealed {what} does not authenticate under key {id:x8}.");
        }
        finally
        {
            key.Return(aes);
        }
    }

    private void NextNonce(Span<byte> nonce)
    {
        while (true)
        {
            // Prefix and counter come from one block, so a nonce never pairs a counter with another block's prefix.
            var block = Volatile.Read(ref _nonces);
            var n = Interlocked.Increment(ref block.Counter);
            if (n <= uint.MaxValue)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(nonce, block.Prefix);
                BinaryPrimitives.WriteUInt32LittleEndian(nonce[8..], (uint)n);
                return;
            }
            Interlocked.CompareExchange(ref _nonces, new NonceBlock(), block);
        }
    }

    /// <summary>A random nonce prefix and the count of nonces drawn under it (at most 2³²).</summary>
    private sealed class NonceBlock
    {
        public readonly ulong Prefix = NewPrefix();
        public long Counter;

        private static ulong NewPrefix()
        {
            Span<byte> b = stackalloc byte[8];
            RandomNumberGenerator.Fill(b);
            return BinaryPrimitives.ReadUInt64LittleEndian(b);
        }
    }

    /// <summary>One key and a pool of its AES-GCM instances (an instance is not safe for concurrent use).</summary>
    private sealed class Key(EncryptionKey key) : IDisposable
    {
        private readonly ConcurrentBag<AesGcm> _pool = [];
        private readonly byte[] _bytes = key.Bytes.ToArray();

        public uint Id { get; } = key.Id;

        public ulong Check { get; } = key.Check;

        public AesGcm Rent() => _pool.TryTake(out var aes) ? aes : new AesGcm(_bytes, TagSize);

        public void Return(AesGcm aes)
        {
            if (_pool.Count < 16)
            {
                _pool.Add(aes);
            }
            else
            {
                aes.Dispose();
            }
        }

        public void Dispose()
        {
            while (_pool.TryTake(out var aes))
            {
                aes.Dispose();
            }
            CryptographicOperations.ZeroMemory(_bytes);
        }
    }
}
