using LangSwarm.MemoryEngine.Format;

namespace LangSwarm.MemoryEngine.Fuzz;

/// <summary>
/// The fixed test keys of the sealed targets (FORMAT.md §13): the store's key is the bytes 1, 2, …, 32 (the key of
/// the golden vectors); the wrong key is the bytes 32, 31, …, 1.
/// </summary>
internal static class Sealing
{
    /// <summary>The bytes 1..32.</summary>
    public static byte[] KeyBytes { get; } = [.. Enumerable.Range(1, EncryptionKey.Size).Select(i => (byte)i)];

    /// <summary>The bytes 32..1 (another key, another id).</summary>
    public static byte[] WrongKeyBytes { get; } = [.. KeyBytes.Reverse()];

    /// <summary>A provider of the store's key.</summary>
    public static IKeyProvider Provider { get; } = KeyProvider.FromKey(new EncryptionKey(KeyBytes));

    /// <summary>A provider of the wrong key only.</summary>
    public static IKeyProvider WrongProvider { get; } = KeyProvider.FromKey(new EncryptionKey(WrongKeyBytes));

    /// <summary>The store key's cipher (thread-safe; shared by every input, never disposed).</summary>
    public static StoreCipher Cipher { get; } = StoreCipher.From(Provider)!;

    /// <summary>A cipher holding only the wrong key.</summary>
    public static StoreCipher WrongCipher { get; } = StoreCipher.From(WrongProvider)!;
}
