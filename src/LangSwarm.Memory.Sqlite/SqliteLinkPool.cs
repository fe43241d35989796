using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// The connections of one database: the writer link behind its semaphore and, with WAL, a small pool of read-only
/// links. Opening it creates or migrates the schema.
/// </summary>
/// <remarks>
/// All writes go through the one writer, one caller at a time, each multi-row change in one transaction, so
/// concurrent tasks never meet "database is locked". With WAL (file databases) reads use pooled read-only links
/// and never wait for the writer; otherwise they share the writer under the same guard. A <c>:memory:</c> database
/// lives in its writer, which a close keeps open (a reopen finds the data) and only a dispose ends.
/// </remarks>
internal sealed class SqliteLinkPool : IAsyncDisposable
{
    private const int MaxIdleReaders = 8;

    private readonly SqliteBackendOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _readerGate = new();
    private readonly Stack<SqliteLink> _idleReaders = new();
    private SqliteLink? _writer;
    private int _generation;
    private volatile bool _open;
    private volatile bool _useReaders;

    /// <summary>Creates a closed pool over the database the (validated) options name.</summary>
    public SqliteLinkPool(SqliteBackendOptions options)
    {
        _options = options;
    }

    /// <summary>The full path of the database file (null for <c>:memory:</c> or before the first open).</summary>
    public string? FullPath { get; private set; }

    /// <summary>True for a <c>:memory:</c> database.</summary>
    public bool IsInMemory => _options.IsInMemory;

    /// <summary>True when the database is in WAL mode (reads use their own links).</summary>
    public bool IsWal => _useReaders;

    /// <summary>Told the message of every SQLite failure (the backend keeps the last one for its health report).</summary>
    public Action<string>? FailureObserver { get; set; }

    /// <summary>Opens the writer (creating the file and its directory, migrating the schema) unless it is open.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_writer is null)
            {
                if (!_options.IsInMemory)
                {
                    FullPath = Path.GetFullPath(_options.DbPath);
                    var directory = Path.GetDirectoryName(FullPath);
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
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Stops all use; closes the links, except the writer of a <c>:memory:</c> database.</summary>
    public Task CloseAsync() => ShutAsync(keepMemoryDatabase: true);

    /// <summary>Stops all use and closes every link.</summary>
    public async ValueTask DisposeAsync() => await ShutAsync(keepMemoryDatabase: false).ConfigureAwait(false);

    /// <summary>Runs <paramref name="work"/> on the writer link, one caller at a time (state passed, so no closure).</summary>
    /// <exception cref="BackendUnavailableException">The pool is not open.</exception>
    public async Task<T> WriteAsync<TState, T>(string operation, TState state, Func<SqliteLink, TState, T> work, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var link = _open && _writer is not null ? _writer : throw NotOpen();
            cancellationToken.ThrowIfCancellationRequested();
            return work(link, state);
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

    /// <summary>Runs <paramref name="work"/> on the writer link, one caller at a time.</summary>
    public Task<T> WriteAsync<T>(string operation, Func<SqliteLink, T> work, CancellationToken cancellationToken) =>
        WriteAsync(operation, work, static (link, w) => w(link), cancellationToken);

    /// <summary>Runs <paramref name="work"/> on a pooled reader link (WAL), else on the guarded writer.</summary>
    public async Task<T> ReadAsync<TState, T>(string operation, TState state, Func<SqliteLink, TState, T> work, CancellationToken cancellationToken)
    {
        if (!_useReaders)
        {
            return await WriteAsync(operation, state, work, cancellationToken).ConfigureAwait(false);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var (link, generation) = RentReader(operation);
        var reusable = false;
        try
        {
            var result = work(link, state);
            reusable = true;
            return result;
        }
        catch (SqliteException ex)
        {
            throw Fail(ex, operation);
        }
        catch
        {
            // Not the connection's fault (a removed session, bad stored JSON): the link stays good.
            reusable = true;
            throw;
        }
        finally
        {
            ReturnReader(link, generation, reusable);
        }
    }

    /// <summary>Runs <paramref name="work"/> on a pooled reader link (WAL), else on the guarded writer.</summary>
    public Task<T> ReadAsync<T>(string operation, Func<SqliteLink, T> work, CancellationToken cancellationToken) =>
        ReadAsync(operation, work, static (link, w) => w(link), cancellationToken);

    private async Task ShutAsync(bool keepMemoryDatabase)
    {
        await _writeLock.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _open = false;
            DrainReaders();
            if (!(keepMemoryDatabase && _options.IsInMemory))
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

    private SqliteLink OpenLink(bool writer)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = _options.IsInMemory ? SqliteBackendOptions.InMemoryPath : FullPath,
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

    private MemoryException Fail(SqliteException ex, string operation)
    {
        FailureObserver?.Invoke(ex.Message);
        return SqliteErrors.Translate(ex, SqliteBackend.BackendName, operation);
    }

    private static BackendUnavailableException NotOpen() =>
        new($"Backend '{SqliteBackend.BackendName}' is not connected; call ConnectAsync first.");
}
