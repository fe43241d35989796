using LangSwarm.Memory;

namespace LangSwarm.MemoryEngine;

/// <summary>The store's files can be written by users other than its owner, and <see cref="EngineOptions.Permissions"/> says to refuse it.</summary>
public sealed class StorePermissionException : MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StorePermissionException(string message)
        : base(message)
    {
    }
}
