using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// The SQLite <see cref="ISessionStore"/>: sessions, messages and summaries in a database file or <c>:memory:</c>,
/// over the connections of a <see cref="SqliteLinkPool"/>. It creates, finds, lists and removes sessions and hands
/// out <see cref="SqliteSessionHandle"/>s, which do the per-session reads and writes.
/// </summary>
/// <remarks>
/// A session row carries an incarnation, taken from a store-wide counter when it is created, that a handle checks
/// on every call: a removed session stays removed for its handles even when one is created again under its id.
/// Every statement is parameterized and compiled once per connection.
/// </remarks>
internal sealed class SqliteSessionStore : ISessionStore
{
    private readonly SqliteLinkPool _links;

    /// <summary>Creates a closed store over the database the (validated) options name.</summary>
    public SqliteSessionStore(SqliteBackendOptions options)
    {
        _links = new SqliteLinkPool(options);
    }

    /// <summary>True for a <c>:memory:</c> database.</summary>
    public bool IsInMemory => _links.IsInMemory;

    /// <summary>Told the message of every SQLite failure (the backend keeps the last one for its health report).</summary>
    public Action<string>? FailureObserver
    {
        get => _links.FailureObserver;
        set => _links.FailureObserver = value;
    }

    /// <inheritdoc />
    public Task OpenAsync(CancellationToken cancellationToken) => _links.OpenAsync(cancellationToken);

    /// <inheritdoc />
    /// <remarks>A <c>:memory:</c> database stays until the store is disposed, so a reopen finds its data.</remarks>
    public Task CloseAsync(CancellationToken cancellationToken) => _links.CloseAsync();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _links.DisposeAsync();

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) =>
        _links.ReadAsync<IReadOnlyList<string>>("probe the database", static link =>
        {
            link.Command(SqliteStatements.Probe).ExecuteScalar();
            return [];
        }, cancellationToken);

    /// <inheritdoc />
    public Task<ISessionHandle?> CreateSessionAsync(SessionMetadata metadata, CancellationToken cancellationToken)
    {
        // The store's own copy: the handle and its snapshots share it, and the caller keeps theirs.
        var owned = metadata.Clone();
        return _links.WriteAsync<ISessionHandle?>("create a session", link =>
        {
            using var tx = link.Connection.BeginTransaction();
            var incarnation = SqliteLink.ScalarInt64(link.Command(SqliteStatements.NextIncarnation, tx));
            var insert = link.Command(SqliteStatements.CreateSession, tx);
            SqliteMapping.BindMetadata(insert, owned.SessionId, owned);
            insert.Parameters.AddWithValue("$incarnation", incarnation);
            if (insert.ExecuteNonQuery() == 0)
            {
                return null;
            }
            tx.Commit();
            return new SqliteSessionHandle(_links, owned, incarnation);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<ISessionHandle?> OpenSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        _links.ReadAsync<ISessionHandle?>("open a session", link =>
        {
            var command = link.Command(SqliteStatements.SelectSessionRow);
            command.Parameters.AddWithValue("$session_id", sessionId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? SqliteSessionHandle.FromRow(_links, reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        _links.ReadAsync<IReadOnlyList<SessionMetadata>>("list sessions", link =>
        {
            var sql = (query.UserId, query.Status) switch
            {
                (null, null) => SqliteStatements.ListSessions,
                (not null, null) => SqliteStatements.ListSessionsByUser,
                (null, not null) => SqliteStatements.ListSessionsByStatus,
                _ => SqliteStatements.ListSessionsByUserAndStatus,
            };
            var command = link.Command(sql);
            if (query.UserId is not null)
            {
                command.Parameters.AddWithValue("$user_id", query.UserId);
            }
            if (query.Status is { } status)
            {
                command.Parameters.AddWithValue("$status", (int)status);
            }
            command.Parameters.AddWithValue("$limit", query.Limit);
            command.Parameters.AddWithValue("$offset", query.Offset);
            var list = new List<SessionMetadata>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                list.Add(SqliteMapping.ReadMetadata(reader));
            }
            return list;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        _links.WriteAsync("delete a session", link =>
        {
            using var tx = link.Connection.BeginTransaction();
            // Children first and explicitly, so deletion is complete even with foreign keys off.
            foreach (var sql in (ReadOnlySpan<string>)[SqliteStatements.DeleteSessionSummaries, SqliteStatements.DeleteSessionMessages])
            {
                var child = link.Command(sql, tx);
                child.Parameters.AddWithValue("$session_id", sessionId);
                child.ExecuteNonQuery();
            }
            var command = link.Command(SqliteStatements.DeleteSession, tx);
            command.Parameters.AddWithValue("$session_id", sessionId);
            var removed = command.ExecuteNonQuery() > 0;
            tx.Commit();
            return removed;
        }, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, SessionStatus? status, CancellationToken cancellationToken) =>
        _links.ReadAsync<IReadOnlyList<string>>("find idle sessions", link =>
        {
            var command = link.Command(status is null ? SqliteStatements.SessionsUpdatedBefore : SqliteStatements.SessionsUpdatedBeforeInStatus);
            command.Parameters.AddWithValue("$cutoff", SqliteMapping.ToTicks(cutoff));
            if (status is { } s)
            {
                command.Parameters.AddWithValue("$status", (int)s);
            }
            var ids = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
            return ids;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>StorageBytes is the database file plus its WAL; for <c>:memory:</c>, page count times page size.</remarks>
    public Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) =>
        _links.ReadAsync("compute usage statistics", link =>
        {
            // One read transaction, so the counts are of one snapshot.
            using var tx = link.Connection.BeginTransaction(deferred: true);
            long sessions, active, archived;
            var counts = link.Command(SqliteStatements.CountSessions, tx);
            using (var reader = counts.ExecuteReader())
            {
                reader.Read();
                sessions = reader.GetInt64(0);
                active = reader.GetInt64(1);
                archived = reader.GetInt64(2);
            }
            var messages = SqliteLink.ScalarInt64(link.Command(SqliteStatements.CountMessages, tx));
            var summaries = SqliteLink.ScalarInt64(link.Command(SqliteStatements.CountSummaries, tx));
            var bytes = StorageBytes(link, tx);
            tx.Commit();
            return new UsageStats
            {
                Backend = SqliteBackend.BackendName,
                TotalSessions = sessions,
                ActiveSessions = active,
                ArchivedSessions = archived,
                TotalMessages = messages,
                TotalSummaries = summaries,
                StorageBytes = bytes,
                Extra = new Dictionary<string, object?>
                {
                    ["db_path"] = _links.IsInMemory ? SqliteBackendOptions.InMemoryPath : _links.FullPath,
                    ["journal_mode"] = link.JournalMode,
                    ["schema_version"] = SqliteSchema.CurrentVersion,
                },
            };
        }, cancellationToken);

    /// <summary>
    /// Rebuilds the database to give back the space of deleted sessions (<c>VACUUM</c>, with WAL checkpoints around
    /// it). Returns the bytes reclaimed: database plus WAL size before, minus after (never negative).
    /// </summary>
    public Task<long> VacuumAsync(CancellationToken cancellationToken) =>
        _links.WriteAsync("vacuum the database", link =>
        {
            var before = StorageBytes(link);
            Checkpoint(link);
            link.Execute("VACUUM");
            Checkpoint(link);
            return Math.Max(0, before - StorageBytes(link));
        }, cancellationToken);

    private void Checkpoint(SqliteLink link)
    {
        if (_links.IsWal)
        {
            link.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    private long StorageBytes(SqliteLink link, SqliteTransaction? tx = null)
    {
        if (_links.IsInMemory)
        {
            return SqliteLink.ScalarInt64(link.Command(SqliteStatements.PageBytes, tx));
        }
        return FileLength(_links.FullPath!) + FileLength(_links.FullPath + "-wal");
    }

    private static long FileLength(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info.Length : 0;
    }
}
