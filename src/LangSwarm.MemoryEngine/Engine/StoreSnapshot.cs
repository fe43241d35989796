using System.Diagnostics;
using LangSwarm.Memory;
using LangSwarm.MemoryEngine.Device;
using LangSwarm.MemoryEngine.Format;
using LangSwarm.MemoryEngine.Index;
using LangSwarm.MemoryEngine.Log;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Copies a store's files into another directory while its writer (in this process or another) keeps going,
/// so that the copy is what a crash of the writer could have left at one moment: opening it recovers a store
/// that holds every add acknowledged before the copy began (FORMAT.md §8).
/// </summary>
/// <remarks>
/// Needs nothing from the writer. The order makes it consistent: the index file first, then the segments, and
/// the commit logs last — the writer appends to the log before the segment, so every record the copied
/// segments hold past the checkpoint is also in the copied logs, or was added after the copy began. A
/// checkpoint that commits meanwhile (it changes a meta page of the index file) or a file that goes away between
/// the listing and its opening makes the attempt start again. The index file and the logs are read through
/// handles opened before the copy starts, so a checkpoint that deletes a log meanwhile cannot take it away.
/// </remarks>
internal static class StoreSnapshot
{
    /// <summary>Attempts before giving up on a store whose checkpoints outrun the copy.</summary>
    public const int MaxAttempts = 8;

    private const int MetaBytes = 2 * BTreePageHeader.PageSize;

    /// <summary>
    /// Copies the store at <paramref name="source"/> into <paramref name="destination"/> (created; it must not
    /// hold files): the index file and the commit logs, and the segments when <paramref name="withSegments"/>.
    /// With <paramref name="durable"/>, every copied file and directory is fsynced.
    /// </summary>
    /// <exception cref="ArgumentException">The destination holds files, or is inside the store.</exception>
    /// <exception cref="MemoryException">No engine store at the source, or it changed under every attempt.</exception>
    public static SnapshotCopy Copy(string source, string destination, bool withSegments, bool durable, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        source = Path.GetFullPath(source);
        destination = Path.GetFullPath(destination);
        if (!File.Exists(Path.Combine(source, IndexFile.FileName)))
        {
            throw new MemoryException($"No engine store at '{source}' (no {IndexFile.FileName}).");
        }
        if (destination.StartsWith(source + Path.DirectorySeparatorChar, StringComparison.Ordinal) || destination == source)
        {
            throw new ArgumentException($"The copy cannot go inside the store it copies ('{destination}').", nameof(destination));
        }
        if (Directory.Exists(destination) && Directory.EnumerateFileSystemEntries(destination).Any())
        {
            throw new ArgumentException($"'{destination}' already holds files; a backup goes into a new or empty directory.", nameof(destination));
        }
        var started = Stopwatch.GetTimestamp();
        for (var attempt = 1; ; attempt++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Directory.CreateDirectory(destination);
            var outcome = TryCopy(source, destination, withSegments, durable, progress, cancellationToken);
            if (outcome is { } copied)
            {
                return copied with { Attempts = attempt, Elapsed = Stopwatch.GetElapsedTime(started) };
            }
            Directory.Delete(destination, recursive: true);
            if (attempt == MaxAttempts)
            {
                throw new MemoryException($"The store at '{source}' checkpointed during each of {MaxAttempts} copy attempts; try again when it is less busy, or back up through the process that writes it (EngineBackend.BackupAsync).");
            }
            Thread.Sleep(TimeSpan.FromMilliseconds(20 * attempt));
        }
    }

    /// <summary>One attempt; null when the store changed under it.</summary>
    private static SnapshotCopy? TryCopy(string source, string destination, bool withSegments, bool durable, Action<long, long>? progress, CancellationToken cancellationToken)
    {
        var metaBefore = ReadMeta(source);
        var logsBefore = Names(source, CommitLog.Directory, IsLog);
        var segments = withSegments ? Names(source, SegmentFiles.Directory, static n => SegmentFiles.TryParseName(n, out _, out _)) : [];
        // Packs change only by a compaction's commit (a new pack is named by none before it; erasures and
        // deletions come after it), so they are copied like segments and the meta check covers them.
        var packs = withSegments ? Names(source, PackFiles.Directory, static n => PackFiles.TryParseName(n, out _)) : [];
        var pinned = new List<(string Path, IStorageFile File, long Length)>();
        try
        {
            // The index file and the logs are opened before anything is copied: a checkpoint that deletes a log
            // meanwhile cannot take it from the copy. Segments (there may be many) are opened one at a time; one
            // deleted meanwhile makes the attempt start again.
            if (!TryOpen(source, IndexFile.FileName, pinned))
            {
                return null;
            }
            foreach (var name in logsBefore)
            {
                if (!TryOpen(source, $"{CommitLog.Directory}/{name}", pinned))
                {
                    return null;
                }
            }
            var total = pinned.Sum(f => f.Length) + DataBytes(source, SegmentFiles.Directory, segments) + DataBytes(source, PackFiles.Directory, packs);
            long done = 0;
            var buffer = new byte[1 << 20];
            Directory.CreateDirectory(Path.Combine(destination, CommitLog.Directory));
            done += CopyFile(pinned[0].File, pinned[0].Length, Path.Combine(destination, IndexFile.FileName), buffer, cancellationToken);
            if (withSegments)
            {
                Directory.CreateDirectory(Path.Combine(destination, SegmentFiles.Directory));
                Directory.CreateDirectory(Path.Combine(destination, PackFiles.Directory));
                var one = new List<(string, IStorageFile, long)>(1);
                foreach (var path in segments.Select(n => $"{SegmentFiles.Directory}/{n}").Concat(packs.Select(n => $"{PackFiles.Directory}/{n}")))
                {
                    if (!TryOpen(source, path, one))
                    {
                        return null;
                    }
                    using (var segment = one[0].Item2)
                    {
                        done += CopyFile(segment, one[0].Item3, Path.Combine(destination, path), buffer, cancellationToken);
                    }
                    one.Clear();
                    progress?.Invoke(done, total);
                }
            }
            foreach (var (path, file, length) in pinned.Skip(1))
            {
                done += CopyFile(file, length, Path.Combine(destination, path), buffer, cancellationToken);
            }
            progress?.Invoke(done, total);
            if (!metaBefore.AsSpan().SequenceEqual(ReadMeta(source)) || !logsBefore.SequenceEqual(Names(source, CommitLog.Directory, IsLog)))
            {
                return null;
            }
            if (durable)
            {
                MakeDurable(destination, withSegments);
            }
            return new SnapshotCopy(0, pinned.Count + segments.Count + packs.Count, done, TimeSpan.Zero);
        }
        finally
        {
            foreach (var f in pinned)
            {
                f.File.Dispose();
            }
        }
    }

    private static long DataBytes(string root, string directory, List<string> names)
    {
        if (names.Count == 0)
        {
            return 0;
        }
        var lengths = new PhysicalFileSystem(root).ListFiles(directory).ToDictionary(e => e.Name, e => e.Length, StringComparer.Ordinal);
        return names.Sum(n => lengths.GetValueOrDefault(n));
    }

    private static bool IsLog(string name) =>
        CommitLog.TryParseName(name.EndsWith(CommitLog.DamagedSuffix, StringComparison.Ordinal) ? name[..^CommitLog.DamagedSuffix.Length] : name, out _);

    private static bool TryOpen(string root, string path, List<(string, IStorageFile, long)> files)
    {
        try
        {
            var file = SnapshotFileSystem.OpenRead(Path.Combine(root, path));
            files.Add((path, file, file.Length));
            return true;
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    private static List<string> Names(string root, string directory, Func<string, bool> keep) =>
        new PhysicalFileSystem(root).ListFiles(directory).Select(e => e.Name).Where(keep).ToList();

    /// <summary>Both meta pages of the index file as a fresh open sees them (a commit or an index compaction changes them).</summary>
    private static byte[] ReadMeta(string root)
    {
        var meta = new byte[MetaBytes];
        try
        {
            using var file = SnapshotFileSystem.OpenRead(Path.Combine(root, IndexFile.FileName));
            file.Read(0, meta);
        }
        catch (FileNotFoundException)
        {
            // Between an index compaction's delete and rename: all zeros, which no later read matches.
        }
        return meta;
    }

    private static long CopyFile(IStorageFile from, long length, string to, byte[] buffer, CancellationToken cancellationToken)
    {
        using var target = new FileStream(to, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        long at = 0;
        while (at < length)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var n = from.Read(at, buffer.AsSpan(0, (int)Math.Min(buffer.Length, length - at)));
            if (n == 0)
            {
                break; // cut meanwhile (an index file shrinking after a commit): the meta check decides
            }
            target.Write(buffer, 0, n);
            at += n;
        }
        return at;
    }

    /// <summary>
    /// Every copied file and directory on stable storage: one <c>syncfs</c> where there is one (a store of many
    /// sessions is many files, and one fsync each would cost more than the copy), else file by file.
    /// </summary>
    private static void MakeDurable(string destination, bool withSegments)
    {
        var fs = new PhysicalFileSystem(destination);
        if (!fs.SyncAll())
        {
            foreach (var file in Directory.EnumerateFiles(destination, "*", SearchOption.AllDirectories))
            {
                using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.FlushToDisk(handle);
            }
            fs.SyncDirectory(CommitLog.Directory);
            if (withSegments)
            {
                fs.SyncDirectory(SegmentFiles.Directory);
                fs.SyncDirectory(PackFiles.Directory);
            }
            fs.SyncDirectory(string.Empty);
        }
    }
}

/// <summary>What a snapshot copied.</summary>
/// <param name="Attempts">Attempts it took (a checkpoint of the writer during one starts it again).</param>
/// <param name="Files">Files copied.</param>
/// <param name="Bytes">Bytes copied.</param>
/// <param name="Elapsed">Time taken, all attempts.</param>
internal sealed record SnapshotCopy(int Attempts, int Files, long Bytes, TimeSpan Elapsed);
