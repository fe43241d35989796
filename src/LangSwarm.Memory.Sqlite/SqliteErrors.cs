using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>Maps SQLite failures onto the memory error families.</summary>
internal static class SqliteErrors
{
    private const int SqlitePerm = 3;
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteReadOnly = 8;
    private const int SqliteIoErr = 10;
    private const int SqliteCorrupt = 11;
    private const int SqliteFull = 13;
    private const int SqliteCantOpen = 14;
    private const int SqliteAuth = 23;
    private const int SqliteNotADb = 26;

    /// <summary>
    /// The memory exception for a SQLite failure: <see cref="StorageCorruptionException"/> for a damaged file,
    /// <see cref="BackendUnavailableException"/> when the storage cannot be reached or written, else <see cref="MemoryException"/>.
    /// </summary>
    public static MemoryException Translate(SqliteException ex, string backend, string operation)
    {
        var message = $"Backend '{backend}' failed to {operation}: {ex.Message}";
        return (ex.SqliteErrorCode & 0xFF) switch
        {
            SqliteCorrupt or SqliteNotADb => new StorageCorruptionException(message, ex),
            SqlitePerm or SqliteBusy or SqliteLocked or SqliteReadOnly or SqliteIoErr or SqliteFull or SqliteCantOpen or SqliteAuth
                => new BackendUnavailableException(message, ex),
            _ => new MemoryException(message, ex),
        };
    }
}
