namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// Stores sessions, messages and summaries in a SQLite database: a file that survives the process, or
/// <c>:memory:</c> for a database that lives as long as the backend. The schema is created and migrated on connect.
/// </summary>
/// <remarks>
/// All writes go through one connection guarded by a semaphore, each multi-row change in one transaction, so
/// concurrent tasks never meet "database is locked". With WAL (file databases), reads use a small pool of
/// separate read-only connections and never wait for the writer; otherwise reads share the writer connection
/// under the same guard. Every statement is parameterized and compiled once per connection.
/// </remarks>
public sealed class SqliteBackend : MemoryBackendBase
{
    /// <summary>The registered name.</summary>
    public const string BackendName = "sqlite";

    private readonly SqliteBackendOptions _options;
    private readonly SqliteSessionStore _store;

    /// <summary>Creates an unconnected backend; <see cref="MemoryBackendBase.ConnectAsync"/> opens or creates the database.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public SqliteBackend(SqliteBackendOptions? options = null)
        : this(Build(options))
    {
    }

    /// <summary>Creates an unconnected backend over a database file (or <c>:memory:</c>) with default options.</summary>
    public SqliteBackend(string dbPath)
        : this(new SqliteBackendOptions { DbPath = dbPath })
    {
    }

    private SqliteBackend((SqliteBackendOptions Options, SqliteSessionStore Store) parts)
        : base(parts.Store, parts.Options.TokenCounter, parts.Options.Summarizer)
    {
        _options = parts.Options;
        _store = parts.Store;
        _store.FailureObserver = RecordError;
    }

    /// <inheritdoc />
    public override string Name => BackendName;

    /// <summary>A copy of the options the backend was made with.</summary>
    public SqliteBackendOptions Options => _options.Clone();

    /// <summary>True for a <c>:memory:</c> database.</summary>
    public bool IsInMemoryDatabase => _options.IsInMemory;

    /// <summary>
    /// Rebuilds the database file to give back the space of deleted sessions (<c>VACUUM</c>, with WAL checkpoints
    /// around it). Returns the bytes reclaimed: database plus WAL size before, minus after (never negative).
    /// </summary>
    public Task<long> VacuumDatabaseAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return _store.VacuumAsync(cancellationToken);
    }

    /// <summary>The backend's own validated copy of the options, and its store over them.</summary>
    private static (SqliteBackendOptions, SqliteSessionStore) Build(SqliteBackendOptions? options)
    {
        var copy = (options ?? new SqliteBackendOptions()).Clone();
        copy.Validate();
        return (copy, new SqliteSessionStore(copy));
    }
}
