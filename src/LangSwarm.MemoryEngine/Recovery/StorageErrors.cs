using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>Used by <see cref="StoreRecovery"/> and the engine to keep messages of a failure readable.</summary>
internal static class StorageErrors
{
    public static MemoryException Wrap(Exception ex, string what) => ex switch
    {
        MemoryException m => m,
        _ => StorageFailureException.From(ex, what),
    };
}
