namespace LangSwarm.MemoryEngine;

/// <summary>A write (add, create, update, delete, vacuum) reached a store opened read-only (<see cref="EngineOptions.ReadOnly"/>).</summary>
public sealed class StoreReadOnlyException : LangSwarm.Memory.MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StoreReadOnlyException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }
}
