using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;

namespace LangSwarm.MemoryEngine.Recovery;

/// <summary>
/// Step 1 of recovery's file handling (FORMAT.md §8): the index file to recover into, and whether recovery may
/// trust it. A file that does not open, or whose meta pages disagree, is set aside for a fresh one: the
/// segments (and logs) are the truth, the index file only saves time.
/// </summary>
internal static class IndexFileOpener
{
    /// <summary>What opening the index file found.</summary>
    /// <param name="File">The file to recover into (the store's, or a fresh one replacing it).</param>
    /// <param name="Problem">Why the store's file was not used, or null.</param>
    /// <param name="MetaDamage">Damage to report: a meta page that failed after a clean close.</param>
    /// <param name="Clean">Whether the open may still count as clean (a rebuilt index never does).</param>
    public readonly record struct Opened(IndexFile File, string? Problem, StoreDamage? MetaDamage, bool Clean);

    /// <summary>Opens the store's index file, or a fresh one where it cannot be trusted.</summary>
    public static Opened Open(IFileSystem fs, bool clean, long cacheBytes, StoreCipher? cipher)
    {
        if (fs.FileExists(StoreRoot.RebuildFile))
        {
            // The last open found a damaged session record: the file cannot be trusted to name every session.
            return new Opened(IndexFile.Recreate(fs, cacheBytes, cipher), "index file set aside: a damaged session record was found while the store was open; rebuilt from the segments", null, false);
        }
        try
        {
            var file = IndexFile.Open(fs, cacheBytes, cipher);
            if (file.MetaProblem is not { } metaProblem)
            {
                return new Opened(file, null, null, clean);
            }
            // The tree may be the commit before the last, whose sessions, segments and deletes the segments
            // have since moved past (a committed compaction, a delete): only a rebuild from the segments (and the
            // logs) is sure. After a clean close no commit can be torn, so it is damage; after a crash, most
            // likely the commit the crash cut off.
            var damage = clean ? new StoreDamage(IndexFile.FileName, 0, 0, $"{metaProblem}; the index was rebuilt from the segments") : null;
            file.Dispose();
            return new Opened(IndexFile.Recreate(fs, cacheBytes, cipher), $"index file ignored: {metaProblem}; rebuilt from the segments", damage, false);
        }
        catch (InvalidDataException ex)
        {
            // The segments are the truth: recovery rebuilds the index from them into a fresh file.
            return new Opened(IndexFile.Recreate(fs, cacheBytes, cipher), $"index file ignored: {ex.Message}", null, clean);
        }
    }
}
