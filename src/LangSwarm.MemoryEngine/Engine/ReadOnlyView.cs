using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Log;
using LangSwarm.MemoryEngine.Recovery;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// The scratch side of a read-only open (<see cref="EngineOptions.ReadOnly"/>): a private directory holding a
/// consistent copy of the store's index file and commit logs (<see cref="StoreSnapshot"/>), and the options
/// that open the ordinary engine over it, segments read in place (<see cref="SnapshotFileSystem"/>). Disposing
/// deletes the scratch directory.
/// </summary>
internal sealed class ReadOnlyView : IDisposable
{
    private readonly string _scratch;

    private ReadOnlyView(string scratch, EngineOptions options, ReadOnlySnapshot snapshot)
    {
        _scratch = scratch;
        Options = options;
        Snapshot = snapshot;
    }

    /// <summary>Options for <see cref="StoreEngine.Open"/>: the view's file system, no background vacuum.</summary>
    public EngineOptions Options { get; }

    /// <summary>When the view was taken and whether a writer held the store then.</summary>
    public ReadOnlySnapshot Snapshot { get; }

    /// <summary>Copies what the view needs from the store at <paramref name="options"/>' path.</summary>
    /// <exception cref="MemoryException">No engine store there, or it changed under every copy attempt.</exception>
    public static ReadOnlyView Create(EngineOptions options)
    {
        var live = Path.GetFullPath(options.Path);
        var writer = WriterHolds(live);
        var scratch = Path.Combine(Path.GetTempPath(), $"lsmem-view-{Guid.NewGuid():N}");
        try
        {
            var taken = DateTimeOffset.UtcNow;
            var copy = StoreSnapshot.Copy(live, scratch, withSegments: false, durable: false, progress: null, CancellationToken.None);
            var viewOptions = options with
            {
                FileSystem = new SnapshotFileSystem(live, scratch, SegmentFiles.Directory, PackFiles.Directory),
                AutoVacuumDeadFraction = null,
            };
            return new ReadOnlyView(scratch, viewOptions, new ReadOnlySnapshot(taken, writer, copy.Attempts));
        }
        catch
        {
            TryDelete(scratch);
            throw;
        }
    }

    /// <summary>Whether another opener holds the store's lock (without creating the lock file or taking it for long).</summary>
    private static bool WriterHolds(string live)
    {
        var lockPath = Path.Combine(live, StoreRoot.LockFile);
        if (!File.Exists(lockPath))
        {
            return false;
        }
        try
        {
            using var probe = new FileStream(lockPath, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
        catch (UnauthorizedAccessException)
        {
            return true; // not ours to lock: treat as held, the view is taken the same way
        }
    }

    /// <inheritdoc />
    public void Dispose() => TryDelete(_scratch);

    private static void TryDelete(string dir)
    {
        try
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
        catch (IOException)
        {
            // A scratch directory left in the temp folder is harmless; the view is closed either way.
        }
    }
}
