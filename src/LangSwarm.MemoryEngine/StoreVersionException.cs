using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine;

/// <summary>The store was written by a newer format version than this build reads.</summary>
public sealed class StoreVersionException : StorageCorruptionException
{
    /// <summary>Creates the exception.</summary>
    public StoreVersionException(string message)
        : base(message)
    {
    }
}
