namespace LangSwarm.Memory;

/// <summary>
/// A scoped session (the seed's <c>async with MemorySessionContext(...) as session</c>):
/// <code>await using var session = await MemorySessionContext.OpenAsync(userId: "user_123");</code>
/// It gets or creates the session on the global manager (or one passed in) and, when it made its own manager
/// from a configuration, shuts that manager down on dispose, even when the body threw.
/// </summary>
public sealed class MemorySessionContext : IMemorySession, IAsyncDisposable
{
    private readonly IMemorySession _session;
    private readonly IMemoryManager? _ownedManager;

    private MemorySessionContext(IMemorySession session, IMemoryManager? ownedManager)
    {
        _session = session;
        _ownedManager = ownedManager;
    }

    /// <summary>
    /// Opens the session <paramref name="sessionId"/> (created when missing) or, with only a user, that user's
    /// current session. <paramref name="configure"/> applies to a newly created session (e.g. <c>MaxTokens</c>).
    /// </summary>
    /// <param name="userId">The owner; a session of another owner is refused.</param>
    /// <param name="sessionId">A specific session.</param>
    /// <param name="configure">Settings for a new session.</param>
    /// <param name="manager">The manager to use; default: the global one.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public static async Task<MemorySessionContext> OpenAsync(
        string? userId = null,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        IMemoryManager? manager = null,
        CancellationToken cancellationToken = default)
    {
        var m = manager ?? LangSwarmMemory.GetGlobalMemoryManager();
        return new MemorySessionContext(await OpenOnAsync(m, userId, sessionId, configure, cancellationToken).ConfigureAwait(false), null);
    }

    /// <summary>Opens a session on a private manager made from <paramref name="configuration"/>, shut down on dispose.</summary>
    public static async Task<MemorySessionContext> OpenAsync(
        MemoryConfiguration configuration,
        string? userId = null,
        string? sessionId = null,
        Action<SessionMetadata>? configure = null,
        CancellationToken cancellationToken = default)
    {
        var m = await MemoryFactory.Default.CreateManagerAsync(configuration, cancellationToken).ConfigureAwait(false);
        try
        {
            return new MemorySessionContext(await OpenOnAsync(m, userId, sessionId, configure, cancellationToken).ConfigureAwait(false), m);
        }
        catch
        {
            await m.ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public string SessionId => _session.SessionId;

    /// <inheritdoc />
    public SessionMetadata Metadata => _session.Metadata;

    /// <inheritdoc />
    public Task AddMessageAsync(Message message, CancellationToken cancellationToken = default) => _session.AddMessageAsync(message, cancellationToken);

    /// <inheritdoc />
    public Task AddMessagesAsync(IEnumerable<Message> messages, CancellationToken cancellationToken = default) => _session.AddMessagesAsync(messages, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Message>> GetMessagesAsync(int? limit = null, DateTimeOffset? since = null, IReadOnlyCollection<MessageRole>? roles = null, CancellationToken cancellationToken = default) =>
        _session.GetMessagesAsync(limit, since, roles, cancellationToken);

    /// <inheritdoc />
    public IAsyncEnumerable<Message> StreamMessagesAsync(DateTimeOffset? since = null, IReadOnlyCollection<MessageRole>? roles = null, CancellationToken cancellationToken = default) =>
        _session.StreamMessagesAsync(since, roles, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Message>> GetRecentMessagesAsync(int tokenLimit = 4000, CancellationToken cancellationToken = default) => _session.GetRecentMessagesAsync(tokenLimit, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<Message>> GetConversationContextAsync(int maxTokens = 8000, CancellationToken cancellationToken = default) => _session.GetConversationContextAsync(maxTokens, cancellationToken);

    /// <inheritdoc />
    public Task UpdateMetadataAsync(IReadOnlyDictionary<string, object?> updates, CancellationToken cancellationToken = default) => _session.UpdateMetadataAsync(updates, cancellationToken);

    /// <inheritdoc />
    public Task ArchiveSessionAsync(CancellationToken cancellationToken = default) => _session.ArchiveSessionAsync(cancellationToken);

    /// <inheritdoc />
    public Task DeleteSessionAsync(CancellationToken cancellationToken = default) => _session.DeleteSessionAsync(cancellationToken);

    /// <inheritdoc />
    public Task<ConversationSummary> CreateSummaryAsync(SummaryType summaryType = SummaryType.Auto, CancellationToken cancellationToken = default) => _session.CreateSummaryAsync(summaryType, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ConversationSummary>> GetSummariesAsync(CancellationToken cancellationToken = default) => _session.GetSummariesAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownedManager is not null)
        {
            await _ownedManager.ShutdownAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private static async Task<IMemorySession> OpenOnAsync(IMemoryManager m, string? userId, string? sessionId, Action<SessionMetadata>? configure, CancellationToken ct)
    {
        if (userId is not null)
        {
            return await m.GetOrCreateSessionAsync(userId, sessionId, configure, ct).ConfigureAwait(false);
        }
        if (sessionId is null)
        {
            return await m.CreateSessionAsync(null, null, configure, ct).ConfigureAwait(false);
        }
        var found = await m.GetSessionAsync(sessionId, ct).ConfigureAwait(false);
        if (found is not null)
        {
            return found;
        }
        try
        {
            return await m.CreateSessionAsync(null, sessionId, configure, ct).ConfigureAwait(false);
        }
        catch (SessionAlreadyExistsException)
        {
            return await m.GetSessionAsync(sessionId, ct).ConfigureAwait(false) ?? throw new SessionNotFoundException(sessionId);
        }
    }
}
