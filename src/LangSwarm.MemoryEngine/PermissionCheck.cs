namespace LangSwarm.MemoryEngine;

/// <summary>
/// What an open does when users other than the owner can write the store (group or other write permission on
/// the store directory, its subdirectories, the index file or a commit log; Unix only). The engine itself creates
/// directories 0700 and files 0600.
/// </summary>
public enum PermissionCheck
{
    /// <summary>Refuse to open with <see cref="StorePermissionException"/> (default): another local user could alter or destroy the conversations.</summary>
    Refuse,

    /// <summary>Open, and log a warning naming the paths.</summary>
    Warn,

    /// <summary>Do not look (a store on a file system without Unix permissions, or shared on purpose).</summary>
    Ignore,
}
