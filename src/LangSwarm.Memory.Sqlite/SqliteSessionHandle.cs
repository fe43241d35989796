using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// One stored session of a <see cref="SqliteSessionStore"/>. It keeps the session's id and incarnation, so every
/// call is one statement or one transaction with no lookup before it: each write updates the session row's counters
/// in SQL (<c>UPDATE ... RETURNING</c>), in the transaction that stores what they count, and each read joins the
/// session row it belongs to. No row for the id and incarnation means the session was removed:
/// <see cref="SessionNotFoundException"/>, and the transaction rolls back.
/// </summary>
/// <remarks>
/// Snapshots share the handle's metadata object, which is replaced, never changed in place: parsed again only when
/// the row's revision shows that another writer replaced the metadata, else copied (sharing its JSON) when a write
/// moves <see cref="SessionMetadata.UpdatedAt"/>.
/// </remarks>
internal sealed class SqliteSessionHandle : ISessionHandle
{
    private const int ReadPageSize = 256;

    private readonly SqliteLinkPool _links;
    private readonly long _incarnation;
    private SessionMetadata _metadata;
    private long _revision;
    private SessionSnapshot _state;

    /// <summary>A handle on a session just created (zeroed counters, first revision).</summary>
    public SqliteSessionHandle(SqliteLinkPool links, SessionMetadata metadata, long incarnation)
        : this(links, incarnation, 0, new SessionSnapshot(metadata, 0, 0, 0, 0))
    {
    }

    private SqliteSessionHandle(SqliteLinkPool links, long incarnation, long revision, SessionSnapshot state)
    {
        _links = links;
        _incarnation = incarnation;
        _revision = revision;
        _metadata = state.Metadata;
        _state = state;
        SessionId = state.Metadata.SessionId;
    }

    /// <summary>A handle on the session row a reader is on (selected with <see cref="SqliteStatements.SessionRowColumns"/>).</summary>
    public static SqliteSessionHandle FromRow(SqliteLinkPool links, SqliteDataReader row) =>
        new(links, row.GetInt64(15), row.GetInt64(16), new SessionSnapshot(
            SqliteMapping.ReadMetadata(row), row.GetInt64(10), row.GetInt32(11), row.GetInt64(12), row.GetInt64(13)));

    /// <inheritdoc />
    public string SessionId { get; }

    /// <inheritdoc />
    public SessionSnapshot State => _state;

    /// <inheritdoc />
    public Task<SessionSnapshot> RefreshAsync(CancellationToken cancellationToken) =>
        _links.ReadAsync("refresh a session", this, static (link, h) =>
            h.Accept(h.ReadRow(h.Bind(link.Command(SqliteStatements.SelectIncarnationRow)), null)), cancellationToken);

    /// <inheritdoc />
    public async Task<SessionSnapshot> AppendAsync(IReadOnlyList<Message> messages, DateTimeOffset updatedAt, CancellationToken cancellationToken)
    {
        try
        {
            return await _links.WriteAsync(
                "append messages",
                (Handle: this, Messages: messages, UpdatedAt: updatedAt),
                static (link, s) => s.Handle.Append(link, s.Messages, s.UpdatedAt),
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            for (var i = 0; i < messages.Count; i++)
            {
                messages[i].Sequence = 0;
            }
            throw;
        }
    }

    /// <inheritdoc />
    public Task<SessionSnapshot> EvictAsync(IReadOnlyList<long> sequences, CancellationToken cancellationToken) =>
        _links.WriteAsync("remove messages", (Handle: this, Sequences: sequences), static (link, s) => s.Handle.Evict(link, s.Sequences), cancellationToken);

    /// <inheritdoc />
    public Task<SessionSnapshot> AddSummaryAsync(ConversationSummary summary, CancellationToken cancellationToken) =>
        _links.WriteAsync("store a summary", (Handle: this, Summary: summary), static (link, s) =>
        {
            var h = s.Handle;
            using var tx = link.Connection.BeginTransaction();
            var mark = h.Bind(link.Command(SqliteStatements.MarkSummarized, tx));
            mark.Parameters.AddWithValue("$through", s.Summary.LastSequence);
            var row = h.ReadRow(mark, null);
            var insert = link.Command(SqliteStatements.InsertSummary, tx);
            SqliteMapping.BindSummary(insert, h.SessionId, s.Summary);
            insert.ExecuteNonQuery();
            tx.Commit();
            return h.Accept(row);
        }, cancellationToken);

    /// <inheritdoc />
    public Task<SessionSnapshot> SaveAsync(SessionMetadata metadata, long lastSequence, long summarizedThrough, CancellationToken cancellationToken)
    {
        // The store's own copy: the snapshots share it, and the caller keeps theirs.
        var owned = metadata.Clone();
        return _links.WriteAsync("save a session", (Handle: this, Metadata: owned, Last: lastSequence, Through: summarizedThrough), static (link, s) =>
        {
            var h = s.Handle;
            var command = link.Command(SqliteStatements.ReplaceMetadata);
            SqliteMapping.BindMetadata(command, h.SessionId, s.Metadata);
            command.Parameters.AddWithValue("$incarnation", h._incarnation);
            command.Parameters.AddWithValue("$last_sequence", s.Last);
            command.Parameters.AddWithValue("$summarized_through", s.Through);
            // One statement: it commits on its own once its row has been read.
            return h.Accept(h.ReadRow(command, s.Metadata));
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<Message> ReadMessagesAsync(MessageQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // Keyset paging on the sequence: no connection or lock is held while the caller consumes a page.
        var from = query.FromSequence;
        while (from <= query.ToSequence)
        {
            var page = await _links.ReadAsync(
                "read messages",
                (Handle: this, Query: query, From: from),
                static (link, s) => s.Handle.ReadPage(link, SqliteStatements.SessionMessagesPage, s.Query, s.From, ReadPageSize),
                cancellationToken).ConfigureAwait(false);
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
    public Task<IReadOnlyList<Message>> ReadNewestMessagesAsync(MessageQuery query, int limit, CancellationToken cancellationToken) =>
        _links.ReadAsync<(SqliteSessionHandle Handle, MessageQuery Query, int Limit), IReadOnlyList<Message>>(
            "read messages",
            (this, query, limit),
            static (link, s) =>
            {
                // At least one row, so a removed session is told from an empty answer.
                var list = s.Handle.ReadPage(link, SqliteStatements.SessionNewestMessages, s.Query, s.Query.FromSequence, Math.Max(s.Limit, 1));
                if (s.Limit <= 0)
                {
                    list.Clear();
                }
                list.Reverse();
                return list;
            },
            cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<MessageInfo>> ReadMessageInfosAsync(CancellationToken cancellationToken) =>
        _links.ReadAsync<SqliteSessionHandle, IReadOnlyList<MessageInfo>>("read message index", this, static (link, h) =>
            h.ReadJoined(h.Bind(link.Command(SqliteStatements.SessionMessageInfos)), SqliteMapping.ReadMessageInfo), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<MessageInfo>> ReadNewestMessageInfosAsync(MessageQuery query, int limit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        return _links.ReadAsync<(SqliteSessionHandle Handle, MessageQuery Query, int Limit), IReadOnlyList<MessageInfo>>(
            "read message index",
            (this, query, limit),
            static (link, s) =>
            {
                // At least one row, so a removed session is told from an empty answer.
                // One role: by the role index (a context's system messages); otherwise backwards along the primary key.
                var single = SingleRole(s.Query.Roles);
                var sql = single is null ? SqliteStatements.SessionNewestMessageInfos : SqliteStatements.SessionNewestMessageInfosOfRole;
                var command = s.Handle.BindFilter(link.Command(sql), s.Query, s.Query.FromSequence, Math.Max(s.Limit, 1));
                if (single is { } role)
                {
                    command.Parameters.AddWithValue("$role", (int)role);
                }
                var list = s.Handle.ReadJoined(command, SqliteMapping.ReadMessageInfo);
                if (s.Limit <= 0)
                {
                    list.Clear();
                }
                list.Reverse();
                return list;
            },
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationSummary>> ReadSummariesAsync(CancellationToken cancellationToken) =>
        _links.ReadAsync<SqliteSessionHandle, IReadOnlyList<ConversationSummary>>("read summaries", this, static (link, h) =>
            h.ReadJoined(h.Bind(link.Command(SqliteStatements.SessionSummaries)), SqliteMapping.ReadSummary), cancellationToken);

    // ---- Internals (on the link, inside the pool's guard) --------------------------------------------------------

    private SessionSnapshot Append(SqliteLink link, IReadOnlyList<Message> messages, DateTimeOffset updatedAt)
    {
        long tokens = 0;
        for (var i = 0; i < messages.Count; i++)
        {
            tokens += messages[i].TokenCount ?? 0;
        }
        using var tx = link.Connection.BeginTransaction();
        var count = Bind(link.Command(SqliteStatements.AppendToSession, tx));
        count.Parameters.AddWithValue("$count", messages.Count);
        count.Parameters.AddWithValue("$tokens", tokens);
        count.Parameters.AddWithValue("$updated_at", SqliteMapping.ToTicks(updatedAt));
        var row = ReadRow(count, null);
        var insert = link.Command(SqliteStatements.InsertMessage, tx);
        var parameters = SqliteMapping.PrepareMessage(insert, SessionId);
        var sequence = row.LastSequence - messages.Count;
        for (var i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            m.Sequence = ++sequence;
            parameters.Set(m);
            insert.ExecuteNonQuery();
        }
        tx.Commit();
        return Accept(row);
    }

    private SessionSnapshot Evict(SqliteLink link, IReadOnlyList<long> sequences)
    {
        using var tx = link.Connection.BeginTransaction();
        var delete = link.Command(SqliteStatements.EvictMessage, tx);
        delete.Parameters.AddWithValue("$session_id", SessionId);
        var sequence = delete.Parameters.Add("$sequence", SqliteType.Integer);
        var count = 0;
        long tokens = 0;
        for (var i = 0; i < sequences.Count; i++)
        {
            sequence.Value = sequences[i];
            using var deleted = delete.ExecuteReader();
            if (deleted.Read())
            {
                count++;
                tokens += deleted.GetInt64(0);
            }
        }
        // After the deletes, so the counters move by what was really there; when the session (this incarnation)
        // is gone this throws and the deletes roll back with it.
        var update = Bind(link.Command(SqliteStatements.EvictFromSession, tx));
        update.Parameters.AddWithValue("$count", count);
        update.Parameters.AddWithValue("$tokens", tokens);
        var row = ReadRow(update, null);
        tx.Commit();
        return Accept(row);
    }

    private List<Message> ReadPage(SqliteLink link, string sql, MessageQuery query, long from, int limit) =>
        ReadJoined(BindFilter(link.Command(sql), query, from, limit), SqliteMapping.ReadMessage);

    /// <summary>The one role of a filter of exactly one, else null.</summary>
    private static MessageRole? SingleRole(IReadOnlyCollection<MessageRole>? roles)
    {
        if (roles is not { Count: 1 })
        {
            return null;
        }
        foreach (var role in roles)
        {
            return role;
        }
        return null;
    }

    /// <summary>Binds the session and the filter of <paramref name="query"/> (from <paramref name="from"/> on), with a row limit.</summary>
    private SqliteCommand BindFilter(SqliteCommand command, MessageQuery query, long from, int limit)
    {
        Bind(command);
        var p = command.Parameters;
        p.AddWithValue("$from", from);
        p.AddWithValue("$to", query.ToSequence);
        p.AddWithValue("$since", query.Since is { } since ? SqliteMapping.ToTicks(since) : 0L);
        p.AddWithValue("$roles", SqliteMapping.RoleMask(query.Roles));
        p.AddWithValue("$limit", limit);
        return command;
    }

    /// <summary>Rows of a statement joined to this incarnation's session row: none at all means it was removed.</summary>
    private List<T> ReadJoined<T>(SqliteCommand command, Func<SqliteDataReader, T> read)
    {
        var list = new List<T>();
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new SessionNotFoundException(SessionId);
        }
        if (reader.IsDBNull(0))
        {
            return list; // The session's one row of NULLs: nothing matched.
        }
        do
        {
            list.Add(read(reader));
        }
        while (reader.Read());
        return list;
    }

    private SqliteCommand Bind(SqliteCommand command)
    {
        command.Parameters.AddWithValue("$session_id", SessionId);
        command.Parameters.AddWithValue("$incarnation", _incarnation);
        return command;
    }

    /// <summary>
    /// Reads the session row a statement returns (<see cref="SqliteStatements.SessionRowColumns"/>), changing nothing
    /// yet: <see cref="Accept"/> takes it once the transaction commits. Metadata is parsed only when its revision
    /// moved and <paramref name="replacing"/> (what this write stored) is null.
    /// </summary>
    /// <exception cref="SessionNotFoundException">No row: this incarnation of the session is gone.</exception>
    private Row ReadRow(SqliteCommand command, SessionMetadata? replacing)
    {
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            throw new SessionNotFoundException(SessionId);
        }
        var revision = reader.GetInt64(16);
        var metadata = replacing ?? (revision == _revision ? null : SqliteMapping.ReadMetadata(reader));
        return new Row(reader.GetInt64(10), reader.GetInt32(11), reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(3), revision, metadata);
    }

    private SessionSnapshot Accept(in Row row)
    {
        if (row.Metadata is not null)
        {
            _metadata = row.Metadata;
            _revision = row.Revision;
        }
        else if (_metadata.UpdatedAt.UtcTicks != row.UpdatedAtTicks)
        {
            // Replaced, never changed in place: earlier snapshots keep theirs.
            _metadata = SqliteMapping.WithUpdatedAt(_metadata, row.UpdatedAtTicks);
        }
        _state = new SessionSnapshot(_metadata, row.LastSequence, row.LiveMessages, row.LiveTokens, row.SummarizedThrough);
        return _state;
    }

    /// <summary>A session row as a write returned it; <see cref="Metadata"/> is null when the handle's still holds.</summary>
    private readonly record struct Row(
        long LastSequence,
        int LiveMessages,
        long LiveTokens,
        long SummarizedThrough,
        long UpdatedAtTicks,
        long Revision,
        SessionMetadata? Metadata);
}
