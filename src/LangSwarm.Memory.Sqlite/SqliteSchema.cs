using System.Globalization;
using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// The database layout, created and migrated on open. <c>schema_version</c> holds one row per applied migration;
/// each migration runs in its own transaction together with the row that records it.
/// </summary>
/// <remarks>
/// Times are UTC ticks (exact round-trip); roles, statuses, strategies and summary types are their enum values;
/// JSON members are stored as their compact JSON text.
/// </remarks>
public static class SqliteSchema
{
    /// <summary>The schema version this library writes and reads.</summary>
    public const int CurrentVersion = 4;

    private const string CreateVersionTable =
        "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL PRIMARY KEY, applied_at INTEGER NOT NULL)";

    private static readonly string[][] Migrations =
    [
        // Version 1: sessions, messages, summaries and their indexes.
        [
            """
            CREATE TABLE sessions (
                session_id TEXT NOT NULL PRIMARY KEY,
                user_id TEXT NULL,
                created_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                status INTEGER NOT NULL,
                max_messages INTEGER NOT NULL,
                max_tokens INTEGER NOT NULL,
                auto_summarize_threshold INTEGER NOT NULL,
                summary_strategy INTEGER NOT NULL,
                metadata TEXT NOT NULL,
                last_sequence INTEGER NOT NULL DEFAULT 0,
                live_messages INTEGER NOT NULL DEFAULT 0,
                live_tokens INTEGER NOT NULL DEFAULT 0,
                summarized_through INTEGER NOT NULL DEFAULT 0
            )
            """,
            """
            CREATE TABLE messages (
                session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
                sequence INTEGER NOT NULL,
                message_id TEXT NOT NULL,
                role INTEGER NOT NULL,
                content TEXT NOT NULL,
                timestamp INTEGER NOT NULL,
                token_count INTEGER NULL,
                metadata TEXT NOT NULL,
                function_call TEXT NULL,
                tool_calls TEXT NULL,
                has_calls INTEGER NOT NULL,
                PRIMARY KEY (session_id, sequence)
            )
            """,
            """
            CREATE TABLE summaries (
                summary_pk INTEGER PRIMARY KEY,
                summary_id TEXT NOT NULL,
                session_id TEXT NOT NULL REFERENCES sessions (session_id) ON DELETE CASCADE,
                summary_text TEXT NOT NULL,
                message_count INTEGER NOT NULL,
                token_count INTEGER NOT NULL,
                created_at INTEGER NOT NULL,
                summary_type INTEGER NOT NULL,
                first_sequence INTEGER NOT NULL,
                last_sequence INTEGER NOT NULL
            )
            """,
            "CREATE INDEX ix_messages_session_timestamp ON messages (session_id, timestamp)",
            "CREATE INDEX ix_summaries_session ON summaries (session_id, summary_pk)",
            "CREATE INDEX ix_sessions_user_updated ON sessions (user_id, updated_at)",
            "CREATE INDEX ix_sessions_status_updated ON sessions (status, updated_at)",
            "CREATE INDEX ix_sessions_updated ON sessions (updated_at)",
        ],

        // Version 2: each session's eviction low-water mark (SessionMetadata.EvictionLowWater); rows written
        // before it get the default.
        [
            "ALTER TABLE sessions ADD COLUMN eviction_low_water REAL NOT NULL DEFAULT 0.8",
        ],

        // Version 3: a session's incarnation and metadata revision, which a session handle checks. The incarnation
        // comes from a store-wide counter on every create (never reused, unlike a rowid), so a handle on a removed
        // session never writes a session created again under its id; the revision grows with every metadata
        // replace, so a handle parses the metadata again only when another writer changed it. Rows written
        // before it get 0 for both: every session created afterwards gets an incarnation of at least 1.
        [
            "ALTER TABLE sessions ADD COLUMN incarnation INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE sessions ADD COLUMN revision INTEGER NOT NULL DEFAULT 0",
            "CREATE TABLE counters (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL)",
            "INSERT INTO counters (name, value) VALUES ('incarnation', 0)",
        ],

        // Version 4: a session's messages by role and sequence, so that the newest messages of one role (a
        // context's system messages) are found without walking every row of a long session; the primary key
        // still serves every other read. Built over the rows present when an older file is first opened.
        [
            "CREATE INDEX ix_messages_session_role ON messages (session_id, role, sequence)",
        ],
    ];

    /// <summary>The version recorded in an open database (0 when none).</summary>
    public static int ReadVersion(SqliteConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    /// <summary>Creates the tables or brings them up to <see cref="CurrentVersion"/>.</summary>
    /// <exception cref="StorageCorruptionException">The database was written by a newer schema.</exception>
    internal static void Migrate(SqliteConnection connection)
    {
        Execute(connection, null, CreateVersionTable);
        for (var target = 1; target <= CurrentVersion; target++)
        {
            // BEGIN IMMEDIATE: two processes opening a new file at once migrate one after the other.
            using var tx = connection.BeginTransaction(deferred: false);
            var current = ReadVersion(connection, tx);
            if (current > CurrentVersion)
            {
                throw new StorageCorruptionException(
                    $"The database has schema version {current}; this library reads up to version {CurrentVersion}.");
            }
            if (current >= target)
            {
                continue;
            }
            foreach (var statement in Migrations[target - 1])
            {
                Execute(connection, tx, statement);
            }
            using (var record = connection.CreateCommand())
            {
                record.Transaction = tx;
                record.CommandText = "INSERT INTO schema_version (version, applied_at) VALUES ($version, $applied_at)";
                record.Parameters.AddWithValue("$version", target);
                record.Parameters.AddWithValue("$applied_at", DateTimeOffset.UtcNow.UtcTicks);
                record.ExecuteNonQuery();
            }
            tx.Commit();
        }
    }

    /// <summary>
    /// Sets the per-connection pragmas. The values come from typed options (integers and enums), never from text.
    /// Returns the journal mode in effect.
    /// </summary>
    internal static string ApplyPragmas(SqliteConnection connection, SqliteBackendOptions options, bool writer)
    {
        Execute(connection, null, "PRAGMA busy_timeout = " + options.BusyTimeoutMs.ToString(CultureInfo.InvariantCulture));
        Execute(connection, null, options.EnableForeignKeys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF");
        Execute(connection, null, options.Durability == SqliteDurability.Full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
        Execute(connection, null, "PRAGMA temp_store = MEMORY");
        if (!writer)
        {
            Execute(connection, null, "PRAGMA query_only = ON");
            return Scalar(connection, "PRAGMA journal_mode");
        }
        // 16 MiB page cache for the writer; readers keep the default.
        Execute(connection, null, "PRAGMA cache_size = -16384");
        if (options.IsInMemory)
        {
            return Scalar(connection, "PRAGMA journal_mode");
        }
        return Scalar(connection, options.EnableWal ? "PRAGMA journal_mode = WAL" : "PRAGMA journal_mode = DELETE");
    }

    private static int ReadVersion(SqliteConnection connection, SqliteTransaction tx)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? tx, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static string Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar(), CultureInfo.InvariantCulture) ?? string.Empty;
    }
}
