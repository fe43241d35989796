namespace LangSwarm.MemoryEngine.Storage;

/// <summary>The storage failed (I/O error, fsync failure, full disk); what was not acknowledged may be lost.</summary>
public sealed class StorageFailureException : LangSwarm.Memory.MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StorageFailureException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
