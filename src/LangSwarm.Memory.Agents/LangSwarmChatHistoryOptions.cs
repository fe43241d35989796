using Microsoft.Agents.AI;

namespace LangSwarm.Memory.Agents;

/// <summary>How <see cref="LangSwarmChatHistoryProvider"/> uses the store.</summary>
public sealed class LangSwarmChatHistoryOptions
{
    /// <summary>Token budget of the history given to the agent per call (default 8,000): system messages, summary, newest turns.</summary>
    public int MaxContextTokens { get; set; } = 8000;

    /// <summary>The owner given to sessions the provider creates (null: none).</summary>
    public string? UserId { get; set; }

    /// <summary>
    /// The memory session id of a new agent session (called once per agent session, then kept in its state).
    /// Null: a new random id.
    /// </summary>
    public Func<AgentSession, string>? SessionIdFactory { get; set; }
}
