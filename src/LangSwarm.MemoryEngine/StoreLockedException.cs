namespace LangSwarm.MemoryEngine;

/// <summary>The store directory is locked by another opener.</summary>
public sealed class StoreLockedException : LangSwarm.Memory.MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StoreLockedException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
