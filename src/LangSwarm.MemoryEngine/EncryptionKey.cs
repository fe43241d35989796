using System.Buffers.Binary;
using System.Security.Cryptography;

namespace LangSwarm.MemoryEngine;

/// <summary>
/// A 256-bit key that seals a store's records and index pages with AES-256-GCM (FORMAT.md §13). Files and records
/// name the key by <see cref="Id"/>, never by its bytes; <see cref="ToString"/> shows only the id.
/// </summary>
public sealed class EncryptionKey
{
    /// <summary>Bytes of a key.</summary>
    public const int Size = 32;

    /// <summary>PBKDF2-SHA256 iterations of <see cref="FromPassphrase"/> unless the caller gives others (OWASP's figure for SHA-256).</summary>
    public const int DefaultPassphraseIterations = 600_000;

    /// <summary>Shortest salt <see cref="FromPassphrase"/> accepts.</summary>
    public const int MinSaltBytes = 16;

    private readonly byte[] _key;

    /// <summary>Wraps 32 key bytes (copied).</summary>
    /// <exception cref="ArgumentException">The key is not 32 bytes.</exception>
    public EncryptionKey(ReadOnlySpan<byte> key)
    {
        if (key.Length != Size)
        {
            throw new ArgumentException($"An encryption key is {Size} bytes; this one is {key.Length}.", nameof(key));
        }
        _key = key.ToArray();
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_key, "LangSwarm.MemoryEngine key id v1"u8, mac);
        // Id 0 means "not sealed" on disk, so a key whose id would be 0 takes 1 (a one-in-four-billion case).
        Id = Math.Max(1u, BinaryPrimitives.ReadUInt32LittleEndian(mac));
        Check = BinaryPrimitives.ReadUInt64LittleEndian(mac[4..]);
    }

    /// <summary>
    /// The key's id: 32 bits of an HMAC of a fixed text under the key. It names the key in file headers, sealed
    /// records and pages; it reveals nothing usable about the key.
    /// </summary>
    public uint Id { get; }

    /// <summary>64 more bits of the same HMAC: the index file's meta page keeps them, so a different key that happens to share the id is still refused at open.</summary>
    internal ulong Check { get; }

    /// <summary>The key bytes.</summary>
    internal ReadOnlySpan<byte> Bytes => _key;

    /// <summary>A key from 64 hexadecimal digits or the base64 of 32 bytes.</summary>
    /// <exception cref="ArgumentException">The text is neither.</exception>
    public static EncryptionKey Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        byte[] bytes;
        try
        {
            bytes = t.Length == 2 * Size ? Convert.FromHexString(t) : Convert.FromBase64String(t);
        }
        catch (FormatException)
        {
            // The text is a secret: the message says what is wrong with it, never what it holds.
            throw new ArgumentException($"An encryption key is written as {2 * Size} hexadecimal digits or the base64 of {Size} bytes; the text given ({t.Length} characters) is neither.", nameof(text));
        }
        try
        {
            return new EncryptionKey(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>
    /// A key derived from a passphrase with PBKDF2-HMAC-SHA256. The salt is not secret but must stay the same for
    /// the store's life (keep it with the application's settings); it should be random and unique per store.
    /// </summary>
    /// <exception cref="ArgumentException">Empty passphrase, a salt under 16 bytes, or under 100,000 iterations.</exception>
    public static EncryptionKey FromPassphrase(string passphrase, ReadOnlySpan<byte> salt, int iterations = DefaultPassphraseIterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(passphrase);
        if (salt.Length < MinSaltBytes)
        {
            throw new ArgumentException($"A passphrase salt holds at least {MinSaltBytes} bytes; this one holds {salt.Length}.", nameof(salt));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 100_000);
        var bytes = Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, iterations, HashAlgorithmName.SHA256, Size);
        try
        {
            return new EncryptionKey(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>A new random key (<see cref="RandomNumberGenerator"/>).</summary>
    public static EncryptionKey Generate()
    {
        Span<byte> bytes = stackalloc byte[Size];
        RandomNumberGenerator.Fill(bytes);
        try
        {
            return new EncryptionKey(bytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    /// <summary>Shows the id only.</summary>
    public override string ToString() => $"key {Id:x8}";
}
