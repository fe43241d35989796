using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

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

    private const int ReadPageSize = 256;
    private const int MaxIdleReaders = 8;

    private readonly SqliteBackendOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _readerGate = new();
    private readonly Stack<SqliteLink> _idleReaders = new();
    private SqliteLink? _writer;
    private string? _fullPath;
    private int _generation;
    private volatile bool _open;
    private volatile bool _useReaders;

    /// <summary>Creates an unconnected backend; <see cref="MemoryBackendBase.ConnectAsync"/> opens or creates the database.</summary>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public SqliteBackend(SqliteBackendOptions? options = null)
        : base(options?.TokenCounter, options?.Summarizer)
    {
        _options = (options ?? new SqliteBackendOptions()).Clone();
        _options.Validate();
    }

    /// <summary>Creates an unconnected backend over a database file (or <c>:memory:</c>) with default options.</summary>
    public SqliteBackend(string dbPath)
        : this(new SqliteBackendOptions { DbPath = dbPath })
    {
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
    public async Task<long> VacuumDatabaseAsync(CancellationToken cancellationToken = default)
    {
        EnsureConnected();
        return await WriteAsync("vacuum the database", link =>
        {
            var before = StorageBytes(link);
            Checkpoint(link);
            link.Execute("VACUUM");
            Checkpoint(link);
            return Math.Max(0, before - StorageBytes(link));
        }, cancellationToken).ConfigureAwait(false);
    }

    // ---- Lifecycle ---------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override async Task OpenStoreAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_writer is null)
            {
                if (!_options.IsInMemory)
                {
                    _fullPath = Path.GetFullPath(_options.DbPath);
                    var directory = Path.GetDirectoryName(_fullPath);
                    if (!string.IsNullOrEmpty(directory))
                    {
                        Directory.CreateDirectory(directory);
                    }
                }
                var link = OpenLink(writer: true);
                try
                {
                    SqliteSchema.Migrate(link.Connection);
                }
                catch
                {
                    link.Dispose();
                    throw;
                }
                _writer = link;
            }
            _useReaders = string.Equals(_writer.JournalMode, "wal", StringComparison.OrdinalIgnoreCase);
            _open = true;
        }
        catch (SqliteException ex)
        {
            throw Fail(ex, "open the database");
        }
        catch (StorageCorruptionException ex)
        {
            // The base records only failures it wraps itself; keep this one for the health report too.
            RecordError(ex.Message);
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    /// <remarks>A <c>:memory:</c> database stays open until the backend is disposed, so a reconnect finds its data.</remarks>
    protected override async Task CloseStoreAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _open = false;
            DrainReaders();
            if (!_options.IsInMemory)
            {
                _writer?.Dispose();
                _writer = null;
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    protected override async ValueTask DisposeStoreAsync()
    {
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _open = false;
            DrainReaders();
            _writer?.Dispose();
            _writer = null;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<string>> ProbeAsync(CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>("probe the database", link =>
        {
            link.Command(SqliteStatements.Probe).ExecuteScalar();
            return [];
        }, cancellationToken);

    // ---- Sessions ----------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task<bool> TryCreateSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        WriteAsync("create a session", link =>
        {
            var command = link.Command(SqliteStatements.InsertSession);
            SqliteMapping.BindSession(command, state);
            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<SessionState?> LoadSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        ReadAsync("load a session", link =>
        {
            var command = link.Command(SqliteStatements.SelectSession);
            command.Parameters.AddWithValue("$session_id", sessionId);
            using var reader = command.ExecuteReader();
            return reader.Read() ? SqliteMapping.ReadSessionState(reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task SaveSessionAsync(SessionState state, CancellationToken cancellationToken) =>
        WriteAsync("save a session", link =>
        {
            UpdateState(link, null, state);
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<SessionMetadata>> QuerySessionsAsync(SessionQuery query, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<SessionMetadata>>("list sessions", link =>
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
                list.Add(SqliteMapping.ReadSessionState(reader).Metadata);
            }
            return list;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<bool> RemoveSessionAsync(string sessionId, CancellationToken cancellationToken) =>
        WriteAsync("delete a session", link =>
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
    protected override Task<IReadOnlyList<string>> FindSessionsUpdatedBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<string>>("find idle sessions", link =>
        {
            var command = link.Command(SqliteStatements.SessionsUpdatedBefore);
            command.Parameters.AddWithValue("$cutoff", SqliteMapping.ToTicks(cutoff));
            var ids = new List<string>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                ids.Add(reader.GetString(0));
            }
            return ids;
        }, cancellationToken);

    // ---- Messages ----------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task AppendMessagesAsync(SessionState state, IReadOnlyList<Message> messages, CancellationToken cancellationToken) =>
        WriteAsync("append messages", link =>
        {
            using var tx = link.Connection.BeginTransaction();
            UpdateState(link, tx, state);
            var command = link.Command(SqliteStatements.InsertMessage, tx);
            var parameters = SqliteMapping.PrepareMessage(command, state.Metadata.SessionId);
            foreach (var m in messages)
            {
                parameters.Set(m);
                command.ExecuteNonQuery();
            }
            tx.Commit();
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override async IAsyncEnumerable<Message> ReadMessagesAsync(
        string sessionId,
        MessageQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keyset paging on the sequence: no connection or lock is held while the caller consumes a page.
        var from = query.FromSequence;
        while (from <= query.ToSequence)
        {
            var start = from;
            var page = await ReadAsync("read messages", link =>
            {
                var command = link.Command(SqliteStatements.SelectMessagesPage);
                BindMessageFilter(command, sessionId, query, start, ReadPageSize);
                return ReadMessages(command);
            }, cancellationToken).ConfigureAwait(false);
            foreach (var m in page)
            {
                cancellationToken.ThrowIfCancellationRequested();
                yield return m;
            }
            if (page.Count < ReadPageSize || page[^1].Sequence == long.MaxValue)
            {
                yield break;
            }
            from = page[^1].Sequence + 1;
        }
    }

    /// <inheritdoc />
    protected override Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(string sessionId, MessageQuery query, int limit, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<Message>>("read messages", link =>
        {
            var command = link.Command(SqliteStatements.SelectNewestMessages);
            BindMessageFilter(command, sessionId, query, query.FromSequence, limit);
            var list = ReadMessages(command);
            list.Reverse();
            return list;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(string sessionId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<MessageInfo>>("read message index", link =>
        {
            var command = link.Command(SqliteStatements.SelectMessageInfos);
            command.Parameters.AddWithValue("$session_id", sessionId);
            var list = new List<MessageInfo>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                list.Add(SqliteMapping.ReadMessageInfo(reader));
            }
            return list;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task RemoveMessagesAsync(SessionState state, IReadOnlyList<long> sequences, CancellationToken cancellationToken) =>
        WriteAsync("remove messages", link =>
        {
            using var tx = link.Connection.BeginTransaction();
            UpdateState(link, tx, state);
            var command = link.Command(SqliteStatements.DeleteMessage, tx);
            command.Parameters.AddWithValue("$session_id", state.Metadata.SessionId);
            var sequence = command.Parameters.Add("$sequence", SqliteType.Integer);
            foreach (var s in sequences)
            {
                sequence.Value = s;
                command.ExecuteNonQuery();
            }
            tx.Commit();
            return true;
        }, cancellationToken);

    // ---- Summaries ---------------------------------------------------------------------------------------------

    /// <inheritdoc />
    protected override Task AppendSummaryAsync(SessionState state, ConversationSummary summary, CancellationToken cancellationToken) =>
        WriteAsync("store a summary", link =>
        {
            using var tx = link.Connection.BeginTransaction();
            UpdateState(link, tx, state);
            var command = link.Command(SqliteStatements.InsertSummary, tx);
            SqliteMapping.BindSummary(command, state.Metadata.SessionId, summary);
            command.ExecuteNonQuery();
            tx.Commit();
            return true;
        }, cancellationToken);

    /// <inheritdoc />
    protected override Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(string sessionId, CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<ConversationSummary>>("read summaries", link =>
        {
            var command = link.Command(SqliteStatements.SelectSummaries);
            command.Parameters.AddWithValue("$session_id", sessionId);
            var list = new List<ConversationSummary>();
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                list.Add(SqliteMapping.ReadSummary(reader));
            }
            return list;
        }, cancellationToken);

    // ---- Statistics --------------------------------------------------------------------------------------------

    /// <inheritdoc />
    /// <remarks>StorageBytes is the database file plus its WAL; for <c>:memory:</c>, page count times page size.</remarks>
    protected override Task<UsageStats> ComputeUsageStatsAsync(CancellationToken cancellationToken) =>
        ReadAsync("compute usage statistics", link =>
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
                Backend = Name,
                TotalSessions = sessions,
                ActiveSessions = active,
                ArchivedSessions = archived,
                TotalMessages = messages,
                TotalSummaries = summaries,
                StorageBytes = bytes,
                Extra = new Dictionary<string, object?>
                {
                    ["db_path"] = _options.IsInMemory ? SqliteBackendOptions.InMemoryPath : _fullPath,
                    ["journal_mode"] = link.JournalMode,
                    ["schema_version"] = SqliteSchema.CurrentVersion,
                },
            };
        }, cancellationToken);

    // ---- Internals ---------------------------------------------------------------------------------------------

    private static void UpdateState(SqliteLink link, SqliteTransaction? tx, SessionState state)
    {
        var command = link.Command(SqliteStatements.UpdateSession, tx);
        SqliteMapping.BindSession(command, state);
        if (command.ExecuteNonQuery() == 0)
        {
            throw new SessionNotFoundException(state.Metadata.SessionId);
        }
    }

    private static void BindMessageFilter(SqliteCommand command, string sessionId, MessageQuery query, long from, int limit)
    {
        var p = command.Parameters;
        p.AddWithValue("$session_id", sessionId);
        p.AddWithValue("$from", from);
        p.AddWithValue("$to", query.ToSequence);
        p.AddWithValue("$since", query.Since is { } since ? SqliteMapping.ToTicks(since) : 0L);
        p.AddWithValue("$roles", SqliteMapping.RoleMask(query.Roles));
        p.AddWithValue("$limit", limit);
    }

    private static List<Message> ReadMessages(SqliteCommand command)
    {
        var list = new List<Message>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            list.Add(SqliteMapping.ReadMessage(reader));
        }
        return list;
    }

    private void Checkpoint(SqliteLink link)
    {
        if (_useReaders)
        {
            link.Execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }

    private long StorageBytes(SqliteLink link, SqliteTransaction? tx = null)
    {
        if (_options.IsInMemory)
        {
            return SqliteLink.ScalarInt64(link.Command(SqliteStatements.PageBytes, tx));
        }
        return FileLength(_fullPath!) + FileLength(_fullPath + "-wal");
    }

    private static long FileLength(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? info.Length : 0;
    }

    private SqliteLink OpenLink(bool writer)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = _options.IsInMemory ? SqliteBackendOptions.InMemoryPath : _fullPath,
            Mode = writer ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Cache = SqliteCacheMode.Private,
            Pooling = false,
            ForeignKeys = _options.EnableForeignKeys,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            connection.Open();
            connection.CreateCollation(SqliteStatements.OrdinalCollation, (a, b) => string.CompareOrdinal(a, b));
            var journalMode = SqliteSchema.ApplyPragmas(connection, _options, writer);
            return new SqliteLink(connection, journalMode);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Runs <paramref name="work"/> on the writer connection, one caller at a time.</summary>
    private async Task<T> WriteAsync<T>(string operation, Func<SqliteLink, T> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var link = _open && _writer is not null ? _writer : throw NotOpen();
            cancellationToken.ThrowIfCancellationRequested();
            return work(link);
        }
        catch (SqliteException ex)
        {
            throw Fail(ex, operation);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader connection (WAL), else on the guarded writer.</summary>
    private async Task<T> ReadAsync<T>(string operation, Func<SqliteLink, T> work, CancellationToken cancellationToken)
    {
        if (!_useReaders)
        {
            return await WriteAsync(operation, work, cancellationToken).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var (link, generation) = RentReader(operation);
        var reusable = false;
        try
        {
            var result = work(link);
            reusable = true;
            return result;
        }
        catch (SqliteException ex)
        {
            throw Fail(ex, operation);
        }
        finally
        {
            ReturnReader(link, generation, reusable);
        }
    }

    private (SqliteLink Link, int Generation) RentReader(string operation)
    {
        int generation;
        lock (_readerGate)
        {
            if (!_open)
            {
                throw NotOpen();
            }
            generation = _generation;
            if (_idleReaders.TryPop(out var idle))
            {
                return (idle, generation);
            }
        }
        try
        {
            return (OpenLink(writer: false), generation);
        }
        catch (SqliteException ex)
        {
            throw Fail(ex, operation);
        }
    }

    private void ReturnReader(SqliteLink link, int generation, bool reusable)
    {
        lock (_readerGate)
        {
            if (reusable && _open && generation == _generation && _idleReaders.Count < MaxIdleReaders)
            {
                _idleReaders.Push(link);
                return;
            }
        }
        link.Dispose();
    }

    private void DrainReaders()
    {
        List<SqliteLink> idle;
        lock (_readerGate)
        {
            _generation++;
            idle = [.. _idleReaders];
            _idleReaders.Clear();
        }
        foreach (var link in idle)
        {
            link.Dispose();
        }
    }

    private BackendUnavailableException NotOpen() =>
        new($"Backend '{Name}' is not connected; call ConnectAsync first.");

    private MemoryException Fail(SqliteException ex, string operation)
    {
        RecordError(ex.Message);
        return SqliteErrors.Translate(ex, Name, operation);
    }
}
