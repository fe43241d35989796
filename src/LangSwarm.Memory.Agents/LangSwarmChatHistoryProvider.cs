using System.Text.Json;
using System.Text.Json.Serialization;
using LangSwarm.Memory.AI;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace LangSwarm.Memory.Agents;

/// <summary>
/// A Microsoft Agent Framework <see cref="ChatHistoryProvider"/> backed by a LangSwarm memory store (any backend).
/// Each <see cref="AgentSession"/> holds, in its state bag, the id of the memory session its conversation lives
/// in, so a serialized agent session (or one given the same id with <see cref="SetSessionId"/>) continues the
/// conversation after a restart. Before each call the agent gets the session's token-budgeted context (system
/// messages, the summary of older turns, the newest turns); after it, the request and response messages, tool
/// calls and results included, are stored. With <c>ChatClientAgentOptions.RequirePerServiceCallChatHistoryPersistence</c>
/// they are stored after every model call of a tool loop, as they happen; a streamed response is stored once
/// its stream ends. The provider keeps no per-session state of its own: one instance serves every session.
/// </summary>
public sealed class LangSwarmChatHistoryProvider : ChatHistoryProvider
{

    private readonly IMemoryManager _manager;
    private readonly LangSwarmChatHistoryOptions _options;
    private readonly ILogger _logger;
    private readonly ProviderSessionState<SessionState> _state;

    /// <summary>Creates the provider over a store's manager (its session defaults apply to new sessions).</summary>
    public LangSwarmChatHistoryProvider(IMemoryManager manager, LangSwarmChatHistoryOptions? options = null, ILogger? logger = null)
        : base(null, null, null)
    {
        _manager = manager ?? throw new ArgumentNullException(nameof(manager));
        _options = options ?? new LangSwarmChatHistoryOptions();
        ArgumentOutOfRangeException.ThrowIfNegative(_options.MaxContextTokens);
        _logger = logger ?? NullLogger.Instance;
        _state = new ProviderSessionState<SessionState>(NewState, nameof(LangSwarmChatHistoryProvider), SessionStateJson.Default.Options);
    }

    /// <summary>Creates the provider over a backend (connected on first use).</summary>
    public LangSwarmChatHistoryProvider(IMemoryBackend backend, LangSwarmChatHistoryOptions? options = null, ILogger? logger = null)
        : this(new MemoryManager(backend ?? throw new ArgumentNullException(nameof(backend))), options, logger)
    {
    }

    /// <summary>The memory session id of an agent session (given one now when it has none).</summary>
    public string GetSessionId(AgentSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        var state = _state.GetOrInitializeState(session);
        _state.SaveState(session, state);
        return state.SessionId;
    }

    /// <summary>Points an agent session at a memory session, e.g. to continue a stored conversation.</summary>
    public void SetSessionId(AgentSession session, string sessionId)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentException.ThrowIfNullOrWhiteSpace(sessionId);
        _state.SaveState(session, new SessionState { SessionId = sessionId });
    }

    /// <inheritdoc />
    protected override async ValueTask<IEnumerable<ChatMessage>> ProvideChatHistoryAsync(InvokingContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Session is null)
        {
            return [];
        }
        var session = await SessionAsync(context.Session, cancellationToken).ConfigureAwait(false);
        var history = await session.GetConversationContextAsync(_options.MaxContextTokens, cancellationToken).ConfigureAwait(false);
        MemoryLog.HistoryLoaded(_logger, history.Count, session.SessionId, _options.MaxContextTokens);
        return history.ToChatMessages();
    }

    /// <inheritdoc />
    protected override async ValueTask StoreChatHistoryAsync(InvokedContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Session is null)
        {
            return;
        }
        var stored = MemorySessions.ToStored(context.RequestMessages.Concat(context.ResponseMessages ?? []));
        if (stored.Count == 0)
        {
            return;
        }
        var session = await SessionAsync(context.Session, cancellationToken).ConfigureAwait(false);
        await session.AddMessagesAsync(stored, cancellationToken).ConfigureAwait(false);
        MemoryLog.HistoryStored(_logger, stored.Count, session.SessionId);
    }

    private Task<IMemorySession> SessionAsync(AgentSession agentSession, CancellationToken cancellationToken) =>
        MemorySessions.GetOrCreateAsync(_manager, GetSessionId(agentSession), _options.UserId, cancellationToken);

    private SessionState NewState(AgentSession? session) =>
        new() { SessionId = (session is null ? null : _options.SessionIdFactory?.Invoke(session)) ?? Guid.NewGuid().ToString("N") };

    /// <summary>What the provider keeps in an agent session's state bag.</summary>
    internal sealed class SessionState
    {
        /// <summary>The memory session of the conversation.</summary>
        public string SessionId { get; set; } = string.Empty;
    }
}

/// <summary>The JSON of <see cref="LangSwarmChatHistoryProvider.SessionState"/> in a serialized agent session (source-generated).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(LangSwarmChatHistoryProvider.SessionState))]
internal sealed partial class SessionStateJson : JsonSerializerContext;
