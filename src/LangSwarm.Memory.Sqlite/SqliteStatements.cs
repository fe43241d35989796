namespace LangSwarm.Memory.Sqlite;

/// <summary>
/// Every statement the backend runs. All values travel as parameters; no statement text is ever built from input.
/// </summary>
internal static class SqliteStatements
{
    /// <summary>A collation that orders text like <see cref="string.CompareOrdinal(string, string)"/> (UTF-16 code units).</summary>
    public const string OrdinalCollation = "LANGSWARM_ORDINAL";

    /// <summary>Columns of a session row, in the order <see cref="SqliteMapping.ReadMetadata"/> and <see cref="SqliteSessionHandle"/> read them.</summary>
    public const string SessionColumns =
        "session_id, user_id, created_at, updated_at, status, max_messages, max_tokens, auto_summarize_threshold, " +
        "summary_strategy, metadata, last_sequence, live_messages, live_tokens, summarized_through, eviction_low_water";

    /// <summary>Columns of a message row, in the order <see cref="SqliteMapping.ReadMessage"/> reads them.</summary>
    public const string MessageColumns =
        "sequence, message_id, role, content, timestamp, token_count, metadata, function_call, tool_calls";

    /// <summary>Columns of a summary row, in the order <see cref="SqliteMapping.ReadSummary"/> reads them.</summary>
    public const string SummaryColumns =
        "summary_id, session_id, summary_text, message_count, token_count, created_at, summary_type, first_sequence, last_sequence";

    /// <summary>
    /// Columns of a session row as a handle reads it: <see cref="SessionColumns"/>, then the incarnation (15) and the
    /// metadata revision (16).
    /// </summary>
    public const string SessionRowColumns = SessionColumns + ", incarnation, revision";

    /// <summary>Takes the next session incarnation from the store-wide counter (never reused).</summary>
    public const string NextIncarnation = "UPDATE counters SET value = value + 1 WHERE name = 'incarnation' RETURNING value";

    /// <summary>Stores a new session with zeroed counters under an incarnation; no row when the id exists.</summary>
    public const string CreateSession =
        "INSERT INTO sessions (" + SessionColumns + ", incarnation, revision) VALUES ($session_id, $user_id, $created_at, " +
        "$updated_at, $status, $max_messages, $max_tokens, $auto_summarize_threshold, $summary_strategy, $metadata, 0, 0, 0, 0, " +
        "$eviction_low_water, $incarnation, 0) ON CONFLICT (session_id) DO NOTHING";

    /// <summary>The row of a session by id (any incarnation).</summary>
    public const string SelectSessionRow = "SELECT " + SessionRowColumns + " FROM sessions WHERE session_id = $session_id";

    /// <summary>The row of one incarnation of a session.</summary>
    public const string SelectIncarnationRow = SelectSessionRow + " AND incarnation = $incarnation";

    private const string OfIncarnation = " WHERE session_id = $session_id AND incarnation = $incarnation RETURNING " + SessionRowColumns;

    /// <summary>Counts an append into the session's counters and marks it active; the new row, or none when removed.</summary>
    public const string AppendToSession =
        "UPDATE sessions SET last_sequence = last_sequence + $count, live_messages = live_messages + $count, " +
        "live_tokens = live_tokens + $tokens, updated_at = $updated_at" + OfIncarnation;

    /// <summary>Takes evicted messages out of the session's counters; the new row, or none when removed.</summary>
    public const string EvictFromSession =
        "UPDATE sessions SET live_messages = live_messages - $count, live_tokens = live_tokens - $tokens" + OfIncarnation;

    /// <summary>Moves the summarized-through mark forward (never back); the new row, or none when removed.</summary>
    public const string MarkSummarized =
        "UPDATE sessions SET summarized_through = MAX(summarized_through, $through)" + OfIncarnation;

    /// <summary>Replaces the metadata and the marks, keeping the live counters; the new row, or none when removed.</summary>
    public const string ReplaceMetadata =
        "UPDATE sessions SET user_id = $user_id, created_at = $created_at, updated_at = $updated_at, status = $status, " +
        "max_messages = $max_messages, max_tokens = $max_tokens, auto_summarize_threshold = $auto_summarize_threshold, " +
        "summary_strategy = $summary_strategy, metadata = $metadata, eviction_low_water = $eviction_low_water, " +
        "last_sequence = MAX(last_sequence, $last_sequence), summarized_through = $summarized_through, " +
        "revision = revision + 1" + OfIncarnation;

    /// <summary>Deletes one message, returning its token count (no row when there was none).</summary>
    public const string EvictMessage =
        "DELETE FROM messages WHERE session_id = $session_id AND sequence = $sequence RETURNING COALESCE(token_count, 0)";

    /// <summary>
    /// One incarnation of a session, left-joined to the rows of a per-session statement: no row at all when the
    /// session is gone, one row of NULLs when it has none.
    /// </summary>
    private const string FromIncarnation = " FROM sessions s LEFT JOIN ";

    private const string WhereIncarnation = " WHERE s.session_id = $session_id AND s.incarnation = $incarnation";

    /// <summary><see cref="MessageColumns"/> of the joined message row.</summary>
    private const string JoinedMessageColumns =
        "m.sequence, m.message_id, m.role, m.content, m.timestamp, m.token_count, m.metadata, m.function_call, m.tool_calls";

    /// <summary>The filter of a <see cref="MessageQuery"/>: sequence range, time floor and a bit mask of roles.</summary>
    private const string JoinedMessageFilter =
        "messages m ON m.session_id = s.session_id AND m.sequence BETWEEN $from AND $to AND m.timestamp >= $since " +
        "AND (($roles >> m.role) & 1) = 1";

    /// <summary>One page of a session's matching messages, ascending (keyset paging on the sequence).</summary>
    public const string SessionMessagesPage =
        "SELECT " + JoinedMessageColumns + FromIncarnation + JoinedMessageFilter + WhereIncarnation + " ORDER BY m.sequence LIMIT $limit";

    /// <summary>A session's newest matching messages, descending; the caller reverses them.</summary>
    public const string SessionNewestMessages =
        "SELECT " + JoinedMessageColumns + FromIncarnation + JoinedMessageFilter + WhereIncarnation + " ORDER BY m.sequence DESC LIMIT $limit";

    /// <summary>Index facts of a session's live messages, without their content.</summary>
    public const string SessionMessageInfos =
        "SELECT m.sequence, m.role, m.token_count, m.timestamp, m.has_calls" + FromIncarnation +
        "messages m ON m.session_id = s.session_id" + WhereIncarnation + " ORDER BY m.sequence";

    /// <summary>
    /// Index facts of a session's newest matching messages, descending (the primary key's order, walked backwards
    /// from the range's top and stopped at the limit); the caller reverses them.
    /// </summary>
    public const string SessionNewestMessageInfos =
        "SELECT m.sequence, m.role, m.token_count, m.timestamp, m.has_calls" + FromIncarnation + JoinedMessageFilter + WhereIncarnation +
        " ORDER BY m.sequence DESC LIMIT $limit";

    /// <summary>
    /// <see cref="SessionNewestMessageInfos"/> for a single role (<c>$role</c>): walks the role index
    /// (<c>ix_messages_session_role</c>) backwards, so a role a long session has few of costs its few rows.
    /// </summary>
    public const string SessionNewestMessageInfosOfRole =
        "SELECT m.sequence, m.role, m.token_count, m.timestamp, m.has_calls" + FromIncarnation +
        "messages m ON m.session_id = s.session_id AND m.role = $role AND m.sequence BETWEEN $from AND $to AND m.timestamp >= $since" +
        WhereIncarnation + " ORDER BY m.sequence DESC LIMIT $limit";

    /// <summary>A session's summaries, oldest first.</summary>
    public const string SessionSummaries =
        "SELECT u.summary_id, u.session_id, u.summary_text, u.message_count, u.token_count, u.created_at, u.summary_type, " +
        "u.first_sequence, u.last_sequence" + FromIncarnation + "summaries u ON u.session_id = s.session_id" + WhereIncarnation +
        " ORDER BY u.summary_pk";

    private const string SessionOrderAndPage =
        " ORDER BY updated_at DESC, session_id COLLATE " + OrdinalCollation + " LIMIT $limit OFFSET $offset";

    public const string ListSessions = "SELECT " + SessionColumns + " FROM sessions" + SessionOrderAndPage;

    public const string ListSessionsByUser =
        "SELECT " + SessionColumns + " FROM sessions WHERE user_id = $user_id" + SessionOrderAndPage;

    public const string ListSessionsByStatus =
        "SELECT " + SessionColumns + " FROM sessions WHERE status = $status" + SessionOrderAndPage;

    public const string ListSessionsByUserAndStatus =
        "SELECT " + SessionColumns + " FROM sessions WHERE user_id = $user_id AND status = $status" + SessionOrderAndPage;

    public const string SessionsUpdatedBefore = "SELECT session_id FROM sessions WHERE updated_at < $cutoff";

    public const string SessionsUpdatedBeforeInStatus = SessionsUpdatedBefore + " AND status = $status";

    public const string DeleteSessionSummaries = "DELETE FROM summaries WHERE session_id = $session_id";

    public const string DeleteSessionMessages = "DELETE FROM messages WHERE session_id = $session_id";

    public const string DeleteSession = "DELETE FROM sessions WHERE session_id = $session_id";

    /// <summary>
    /// Inserts a message. Content arrives as text, or as UTF-8 bytes when it holds U+0000 (see
    /// <see cref="SqliteMapping.TextValue"/>); the cast stores both as text.
    /// </summary>
    public const string InsertMessage =
        "INSERT INTO messages (session_id, " + MessageColumns + ", has_calls) VALUES ($session_id, $sequence, $message_id, " +
        "$role, CAST($content AS TEXT), $timestamp, $token_count, $metadata, $function_call, $tool_calls, $has_calls)";

    /// <summary>Inserts a summary; its text arrives as <see cref="SqliteMapping.TextValue"/> makes it.</summary>
    public const string InsertSummary =
        "INSERT INTO summaries (" + SummaryColumns + ") VALUES ($summary_id, $session_id, CAST($summary_text AS TEXT), $message_count, " +
        "$token_count, $created_at, $summary_type, $first_sequence, $last_sequence)";

    public const string CountSessions =
        "SELECT COUNT(*), COALESCE(SUM(status = 0), 0), COALESCE(SUM(status = 1), 0) FROM sessions";

    public const string CountMessages = "SELECT COUNT(*) FROM messages";

    public const string CountSummaries = "SELECT COUNT(*) FROM summaries";

    public const string PageBytes = "SELECT (SELECT page_count FROM pragma_page_count()) * (SELECT page_size FROM pragma_page_size())";

    public const string Probe = "SELECT 1";
}
