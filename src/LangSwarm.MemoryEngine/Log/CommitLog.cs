using System.Globalization;
using LangSwarm.MemoryEngine.Format;
using Microsoft.Extensions.Logging;

namespace LangSwarm.MemoryEngine.Log;

/// <summary>
/// The shared commit log in front of the per-session segments (FORMAT.md §5.2): file naming, creation, and the
/// one log class per durability mode.
/// </summary>
internal static class CommitLog
{
    /// <summary>Directory of the log files.</summary>
    public const string Directory = "wal";

    /// <summary>Suffix of a damaged log that recovery replayed and kept aside (FORMAT.md §8, step 4).</summary>
    public const string DamagedSuffix = ".damaged";

    /// <summary>Opens a new, empty log starting at <paramref name="firstLsn"/> that acknowledges appends as <paramref name="mode"/> says.</summary>
    /// <remarks><paramref name="keyId"/> goes in each log file's header: the key its records are sealed with (0: none).</remarks>
    public static ICommitLog Open(IFileSystem fs, DurabilityMode mode, TimeSpan batchedInterval, ulong firstLsn, ILogger logger, uint keyId = 0) => mode switch
    {
        DurabilityMode.Strict => new GroupCommitLog(fs, firstLsn, logger, keyId),
        DurabilityMode.Batched => new BatchedCommitLog(fs, firstLsn, batchedInterval, logger, keyId),
        DurabilityMode.None => new WriteThroughCommitLog(fs, firstLsn, logger, keyId),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Unknown durability mode."),
    };

    /// <summary>Why a log refuses an append (failed earlier, or closing), as a faulted task; null when it takes it.</summary>
    public static Task? Refusal(Exception? failure, bool stopping) =>
        failure is not null ? Task.FromException(StorageFailureException.From(failure, "The commit log failed earlier; reopen the store"))
        : stopping ? Task.FromException(new ObjectDisposedException(nameof(CommitLog)))
        : null;

    /// <summary>Name of the log file that starts at <paramref name="firstLsn"/>.</summary>
    public static string FileNameFor(ulong firstLsn) => $"{firstLsn:x16}.log";

    /// <summary>Parses a log file name (<c>{firstLsn:x16}.log</c>); false for anything else.</summary>
    public static bool TryParseName(string name, out ulong firstLsn)
    {
        firstLsn = 0;
        return name.Length == 20 && name.EndsWith(".log", StringComparison.Ordinal)
            && ulong.TryParse(name.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out firstLsn);
    }

    /// <summary>Creates the log file starting at <paramref name="firstLsn"/>, holding only its header, and makes its creation durable.</summary>
    public static (IStorageFile File, string Name) CreateFile(IFileSystem fs, ulong firstLsn, uint keyId)
    {
        var name = FileNameFor(firstLsn);
        var file = fs.Open($"{Directory}/{name}", create: true);
        try
        {
            Span<byte> header = stackalloc byte[FileHeader.Size];
            new FileHeader(FileKind.CommitLog, FileHeader.VersionFor(keyId), firstLsn, 0, keyId).WriteTo(header);
            file.SetLength(0);
            file.Write(0, header);
            file.Flush();
            fs.SyncDirectory(Directory);
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return (file, name);
    }
}

/// <summary>
/// A commit log: appends records (LSNs already assigned) and acknowledges them as its durability mode says.
/// After any write or fsync failure it refuses all further appends: data it could not store is never
/// reported safe, and the store must be reopened (recovery decides what survived).
/// </summary>
internal interface ICommitLog : IDisposable
{
    /// <summary>Bytes in the current log file (header and records).</summary>
    long Length { get; }

    /// <summary>Bytes the current log file takes on disk: <see cref="Length"/> and any zeros preallocated past it.</summary>
    long FileBytes { get; }

    /// <summary>The failure that stopped the log, if any.</summary>
    Exception? Failure { get; }

    /// <summary>Appends <paramref name="records"/>; the task completes when the mode acknowledges them.</summary>
    Task AppendAsync(ReadOnlySpan<byte> records);

    /// <summary>
    /// Starts a new log file at <paramref name="firstLsn"/> (the checkpoint boundary); returns the name of the
    /// finished one, fsynced, or null when the current file already starts there (it then simply stays). Call
    /// with no appends in flight.
    /// </summary>
    string? Rotate(ulong firstLsn);

    /// <summary>Stops without another write or fsync: what a killed process leaves behind. For crash tests.</summary>
    void Abandon();
}
