using Microsoft.Agents.AI;

namespace LangSwarm.Memory.Agents;

/// <summary>How <see cref="LangSwarmChatHistoryProvider"/> uses the store.</summary>
public sealed class LangSwarmChatHistoryOptions
{
    /// <summary>Token budget of the history given to the agent per call (default 8,000): system messages, summary, newest turns.</summary>
    public int MaxContextTokens { get; set; } = 8000;

    /// <summary>
    /// The owner given to sessions this provider creates, and the only user whose sessions it uses: a session id
    /// naming another user's session (or one without an owner) is a <see cref="SessionAccessDeniedException"/>,
    /// before anything is sent or stored. Null: sessions are created without an owner and used by id whoever owns them
    /// (a single-user app).
    /// </summary>
    public string? UserId { get; set; }

    /// <summary>
    /// The memory session id of a new agent session (called once per agent session, then kept in its state).
    /// Null: a new random id.
    /// </summary>
    public Func<AgentSession, string>? SessionIdFactory { get; set; }
}
