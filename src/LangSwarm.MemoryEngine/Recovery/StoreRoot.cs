using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>The files at the top of a store directory (FORMAT.md §1): which are the engine's, and the leftovers an open removes.</summary>
internal static class StoreRoot
{
    /// <summary>The store's lock file (held for as long as the store is open).</summary>
    public const string LockFile = "LOCK";

    /// <summary>Exists only between a clean close (after its checkpoint) and the next open.</summary>
    public const string CleanFile = "CLEAN";

    /// <summary>
    /// Written when a session record of the index file was found damaged while the store was open (sessions load
    /// on first use, so an open does not read them all): the next open sets the index file aside and rebuilds it
    /// from the segments, then removes this file.
    /// </summary>
    public const string RebuildFile = "REBUILD";

    /// <summary>Files at the top that are not the engine's, after <paramref name="known"/> (left untouched, reported).</summary>
    public static List<string> ForeignFiles(IFileSystem fs, IEnumerable<string> known)
    {
        var foreign = new List<string>(known);
        foreach (var (name, _) in fs.ListFiles(string.Empty))
        {
            if (name is not (LockFile or CleanFile or RebuildFile or IndexFile.FileName) && !IsLeftover(name))
            {
                foreign.Add(name);
            }
        }
        return foreign;
    }

    /// <summary>Deletes the leftovers: the snapshot checkpoint of earlier builds and an interrupted index compaction.</summary>
    public static void RemoveLeftovers(IFileSystem fs)
    {
        foreach (var (name, _) in fs.ListFiles(string.Empty))
        {
            if (IsLeftover(name))
            {
                fs.Delete(name);
            }
        }
    }

    private static bool IsLeftover(string name) => name is "index.ckpt" or "index.ckpt.tmp" or IndexFile.FileName + ".compact";
}
