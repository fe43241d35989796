using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// The seed's <c>V1MemoryMigrator</c>: brings the history of Python LangSwarm V1 into a V2 backend. It reads V1's
/// SQLite session store (source name <c>v1_sqlite</c>, default file <c>langswarm_sessions.db</c>, table
/// <c>sessions</c>) opened read-only, so the V1 file is never modified, maps each row by the rules of
/// <see cref="V1SessionMapper"/>, writes each session whole (<see cref="SessionTransfer"/>), and reports in
/// <see cref="MigrationReport.Errors"/> every session it skipped and everything it could not map as it was.
/// </summary>
public sealed class V1MemoryMigrator : IMemoryMigrator
{
    /// <summary>The source name (<c>v1_sqlite</c>).</summary>
    public const string SourceName = "v1_sqlite";

    /// <summary>V1's default session store file.</summary>
    public const string DefaultFileName = "langswarm_sessions.db";

    private readonly string _path;
    private readonly V1MigrationOptions _options;

    /// <summary>A migrator for the V1 store at <paramref name="path"/> (default <see cref="DefaultFileName"/>).</summary>
    public V1MemoryMigrator(string? path = null, V1MigrationOptions? options = null)
    {
        _path = path ?? DefaultFileName;
        _options = options ?? new V1MigrationOptions();
    }

    /// <summary>The V1 file read.</summary>
    public string Path => _path;

    /// <summary>How many sessions (rows) the V1 store holds.</summary>
    public async Task<long> CountSessionsAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sessions";
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) ?? 0L);
    }

    /// <summary>Every V1 session, in session id order, mapped to V2 (or why it could not be).</summary>
    /// <exception cref="MemoryConfigurationException">The file is missing or holds no V1 <c>sessions</c> table.</exception>
    public async IAsyncEnumerable<V1Session> ReadSessionsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var mapper = new V1SessionMapper(_options);
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT session_id, user_id, provider, model, status, session_control, created_at, updated_at, last_activity, metadata, history FROM sessions ORDER BY session_id";
        SqliteDataReader reader;
        try
        {
            reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (SqliteException ex)
        {
            throw new MemoryConfigurationException($"'{_path}' is not a LangSwarm V1 session store: {ex.Message}", ex);
        }
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var values = new object?[11];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
                }
                yield return mapper.Map(new V1Row(values[0], values[1], values[2], values[3], values[4], values[5], values[6], values[7], values[8], values[9], values[10]));
            }
        }
    }

    /// <summary>
    /// Migrates every V1 session into <paramref name="targetBackend"/> under its own id. <paramref name="sourceBackend"/>
    /// is <c>v1_sqlite</c> (the constructor's file) or <c>v1_sqlite:PATH</c>. A session the target already holds
    /// is skipped (and reported when it differs from the V1 one).
    /// </summary>
    public async Task<MigrationReport> MigrateSessionsAsync(string sourceBackend, IMemoryBackend targetBackend, int batchSize = 100, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceBackend);
        ArgumentNullException.ThrowIfNull(targetBackend);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var migrator = this;
        if (!sourceBackend.Equals(SourceName, StringComparison.OrdinalIgnoreCase))
        {
            if (!sourceBackend.StartsWith(SourceName + ":", StringComparison.OrdinalIgnoreCase))
            {
                throw new MemoryConfigurationException($"V1MemoryMigrator reads '{SourceName}' or '{SourceName}:PATH', not '{sourceBackend}'.");
            }
            migrator = new V1MemoryMigrator(sourceBackend[(SourceName.Length + 1)..], _options);
        }
        return await migrator.MigrateAsync(targetBackend, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Migrates the V1 sessions named in <paramref name="sessionMapping"/> (V1 id → target id).</summary>
    public Task<MigrationReport> MigrateMessagesAsync(IReadOnlyDictionary<string, string> sessionMapping, IMemoryBackend targetBackend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sessionMapping);
        ArgumentNullException.ThrowIfNull(targetBackend);
        return MigrateAsync(targetBackend, sessionMapping, cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> ValidateMigrationAsync(UsageStats sourceStats, UsageStats targetStats, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sourceStats);
        ArgumentNullException.ThrowIfNull(targetStats);
        return Task.FromResult(targetStats.TotalSessions >= sourceStats.TotalSessions && targetStats.TotalMessages >= sourceStats.TotalMessages);
    }

    private async Task<MigrationReport> MigrateAsync(IMemoryBackend target, IReadOnlyDictionary<string, string>? mapping, CancellationToken cancellationToken)
    {
        if (!target.IsConnected)
        {
            await target.ConnectAsync(cancellationToken).ConfigureAwait(false);
        }
        int migrated = 0, skipped = 0;
        long messages = 0;
        var errors = new List<string>();
        await foreach (var v1 in ReadSessionsAsync(cancellationToken).ConfigureAwait(false))
        {
            string? to = null;
            if (mapping is not null && (v1.SessionId is null || !mapping.TryGetValue(v1.SessionId, out to)))
            {
                continue;
            }
            errors.AddRange(v1.Notes);
            if (v1.Record is not { } record)
            {
                errors.Add(v1.Error!);
                skipped++;
                continue;
            }
            if (to is not null && to != record.SessionId)
            {
                var meta = record.Metadata.Clone();
                meta.SessionId = to;
                record = new PortableSession(meta, record.LastSequence, record.SummarizedThrough, record.Messages, record.Summaries);
            }
            try
            {
                await SessionTransfer.WriteAsync(target, record, replace: false, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionAlreadyExistsException)
            {
                errors.Add($"session '{record.SessionId}' already exists in the target; skipped");
                skipped++;
                continue;
            }
            migrated++;
            messages += record.Messages.Count;
        }
        return new MigrationReport(migrated, messages, skipped, errors);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(_path))
        {
            throw new MemoryConfigurationException($"No LangSwarm V1 session store at '{_path}'.");
        }
        // Read-only and not pooled: the V1 file is never written, and no handle on it outlives the read.
        var builder = new SqliteConnectionStringBuilder { DataSource = _path, Mode = SqliteOpenMode.ReadOnly, Pooling = false };
        var connection = new SqliteConnection(builder.ToString());
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }
}
