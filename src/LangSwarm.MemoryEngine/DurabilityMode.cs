namespace LangSwarm.MemoryEngine;

/// <summary>When an acknowledged add is safe (FORMAT.md §7).</summary>
public enum DurabilityMode
{
    /// <summary>An add returns after its bytes are on stable storage (fsync of the commit log, shared by concurrent adds).</summary>
    Strict,

    /// <summary>An add returns after its bytes reach the OS; the log is fsynced at least every <c>BatchedInterval</c>. A power loss may lose that window.</summary>
    Batched,

    /// <summary>An add returns after its bytes reach the OS; fsync only at checkpoints and close. Survives a process crash, not a power loss.</summary>
    None,
}
