namespace LangSwarm.MemoryEngine;

/// <summary>The storage failed (I/O error, fsync failure, full disk); what was not acknowledged may be lost.</summary>
public sealed class StorageFailureException : LangSwarm.Memory.MemoryException
{
    /// <summary>Creates the exception.</summary>
    public StorageFailureException(string message, Exception? inner = null)
        : base(message, inner)
    {
    }

    /// <summary>True when the exception itself or what it wraps says the device is out of space (ENOSPC).</summary>
    public bool IsDiskFull => IsNoSpace(InnerException);

    /// <summary>
    /// Wraps an I/O failure under <paramref name="what"/>, saying "the disk is full" when the OS reported
    /// ENOSPC, so that the one failure a user can fix themselves reads as such.
    /// </summary>
    internal static StorageFailureException From(Exception ex, string what) => IsNoSpace(ex)
        ? new StorageFailureException($"{what}: the disk is full. Earlier data is intact; free space and reopen the store.", ex)
        : new StorageFailureException($"{what}: {ex.Message}", ex);

    internal static bool IsNoSpace(Exception? ex)
    {
        for (var e = ex; e is not null; e = e.InnerException)
        {
            // On Unix the HResult of an IOException is the errno; ENOSPC is 28 (Windows: ERROR_DISK_FULL, 0x70).
            if (e is IOException io && (io.HResult == 28 || (io.HResult & 0xFFFF) == 0x70 || io.Message.Contains("No space", StringComparison.OrdinalIgnoreCase)))
            {
                return true;
            }
        }
        return false;
    }
}
