using System.Diagnostics;
using LangSwarm.Memory;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.MemoryEngine.Engine;

/// <summary>
/// Backups and restores of engine stores: a consistent copy (<see cref="StoreSnapshot"/>) of an open store, of a
/// store another process holds, or of a backup into a new store; each copy then opened and verified on request.
/// </summary>
internal static class StoreBackup
{
    /// <summary>Backs up a store this process has open (writes go on meanwhile).</summary>
    public static Task<BackupReport> FromOpenAsync(StoreEngine engine, string destination, bool verify, IProgress<CopyProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(destination, verify, engine.Options.Encryption, ct => engine.SnapshotAsync(destination, Report(progress), ct), cancellationToken);

    /// <summary>Backs up the store at <paramref name="store"/>, held by another process or by none.</summary>
    public static Task<BackupReport> FromPathAsync(string store, string destination, bool verify, IKeyProvider? keys, IProgress<CopyProgress>? progress, CancellationToken cancellationToken) =>
        RunAsync(destination, verify, keys, ct => Task.Run(() => StoreSnapshot.Copy(store, destination, withSegments: true, durable: true, Report(progress), ct), ct), cancellationToken);

    /// <summary>
    /// Copies the backup at <paramref name="backup"/> into a new store at <paramref name="store"/> (a missing or
    /// empty directory), then opens it (recovery) and verifies it; a failed copy leaves no store behind.
    /// </summary>
    /// <exception cref="ArgumentException">The target holds files.</exception>
    public static async Task<VerifyReport> RestoreAsync(string backup, string store, IKeyProvider? keys, IProgress<CopyProgress>? progress, CancellationToken cancellationToken)
    {
        store = Path.GetFullPath(store);
        if (Directory.Exists(store) && Directory.EnumerateFileSystemEntries(store).Any())
        {
            throw new ArgumentException($"'{store}' already holds files; restore into a new or empty directory (move the old store aside first).", nameof(store));
        }
        try
        {
            await Task.Run(() => StoreSnapshot.Copy(backup, store, withSegments: true, durable: true, Report(progress), cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            TryDelete(store);
            throw;
        }
        return await VerifyCopyAsync(store, keys, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<BackupReport> RunAsync(string destination, bool verify, IKeyProvider? keys, Func<CancellationToken, Task<SnapshotCopy>> copy, CancellationToken cancellationToken)
    {
        var startedAt = DateTimeOffset.UtcNow;
        var started = Stopwatch.GetTimestamp();
        var copied = await copy(cancellationToken).ConfigureAwait(false);
        var report = verify ? await VerifyCopyAsync(destination, keys, cancellationToken).ConfigureAwait(false) : null;
        return new BackupReport(Path.GetFullPath(destination), startedAt, copied.Files, copied.Bytes, copied.Attempts, Stopwatch.GetElapsedTime(started), report);
    }

    /// <summary>
    /// Opens the copy at <paramref name="directory"/> (its recovery makes it a store of its own) with the store's
    /// keys and verifies it; an encrypted copy opened without them is <see cref="EncryptionKeyException"/>.
    /// </summary>
    private static async Task<VerifyReport> VerifyCopyAsync(string directory, IKeyProvider? keys, CancellationToken cancellationToken)
    {
        using var engine = StoreEngine.Open(new EngineOptions { Path = directory, Encryption = keys }, NullLogger.Instance);
        return await engine.VerifyAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Action<long, long>? Report(IProgress<CopyProgress>? progress) =>
        progress is null ? null : (done, total) => progress.Report(new CopyProgress(done, total));

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the user to remove; the restore's error says what failed.
        }
    }
}
