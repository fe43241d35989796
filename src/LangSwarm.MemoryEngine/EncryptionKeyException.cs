using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine;

/// <summary>
/// The store (or a file or record in it) is sealed with a key this open was not given, or the key given is not
/// the one it was sealed with. Thrown at open before anything is written; the store is left as it was.
/// </summary>
public sealed class EncryptionKeyException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public EncryptionKeyException(string message, uint keyId = 0)
        : base(message)
    {
        KeyId = keyId;
    }

    /// <summary>The id of the key that is needed (0 when none is named).</summary>
    public uint KeyId { get; }
}
