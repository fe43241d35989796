using LangSwarm.Memory;
using LangSwarm.Memory.Sqlite;

[assembly: MemoryBackendProvider(typeof(SqliteBackendProvider))]

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// Makes <see cref="SqliteBackend"/>s from configuration. Options: <c>db_path</c> (file or <c>:memory:</c>, default
/// <c>memory.db</c>), <c>enable_wal</c>, <c>enable_foreign_keys</c>, <c>busy_timeout_ms</c>, <c>synchronous</c>
/// (<c>full</c> or <c>normal</c>), <c>pool_size</c> and the retention options of <see cref="RetentionPolicy"/>.
/// <c>pool_size</c> is accepted for compatibility with the seed's configurations and otherwise ignored: the backend
/// always uses a single writer connection (plus a small pool of reader connections it sizes itself).
/// </summary>
public sealed class SqliteBackendProvider : IMemoryBackendProvider
{
    private static readonly string[] ValidOptions =
        ["db_path", "enable_wal", "enable_foreign_keys", "busy_timeout_ms", "synchronous", "pool_size", .. RetentionPolicy.OptionNames];

    /// <inheritdoc />
    public string Name => SqliteBackend.BackendName;

    /// <inheritdoc />
    public IReadOnlyCollection<string> Aliases => ["sqlite3"];

    /// <inheritdoc />
    public string Description => "SQLite database file (or :memory:); persistent local storage with WAL and automatic schema.";

    /// <inheritdoc />
    public IMemoryBackend Create(BackendSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.EnsureOnly(Name, ValidOptions);
        var defaults = new SqliteBackendOptions();
        var options = new SqliteBackendOptions
        {
            DbPath = settings.GetString("db_path", SqliteBackendOptions.DefaultDbPath)!,
            EnableWal = settings.GetBool("enable_wal", defaults.EnableWal),
            EnableForeignKeys = settings.GetBool("enable_foreign_keys", defaults.EnableForeignKeys),
            BusyTimeoutMs = settings.GetInt("busy_timeout_ms", defaults.BusyTimeoutMs, min: 0),
            Durability = settings.GetEnum("synchronous", defaults.Durability),
        };
        // Validated for its type and range, then ignored (see the class remarks).
        settings.GetInt("pool_size", 1, min: 1);
        try
        {
            return new SqliteBackend(options) { Retention = RetentionPolicy.FromSettings(settings) };
        }
        catch (ArgumentException ex)
        {
            throw new MemoryConfigurationException($"Invalid option for backend '{Name}': {ex.Message}", ex);
        }
    }
}
