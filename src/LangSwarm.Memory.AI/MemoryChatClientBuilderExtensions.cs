using LangSwarm.Memory;
using LangSwarm.Memory.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Microsoft.Extensions.AI;

/// <summary>Adds LangSwarm memory to a chat client pipeline.</summary>
public static class MemoryChatClientBuilderExtensions
{
    /// <summary>
    /// Keeps the conversation in a LangSwarm memory session: before each call the session's token-budgeted context
    /// (system messages, summary, newest turns) is sent ahead of the request, after it the request and the
    /// (streamed) response are stored. The session is the call's <see cref="ChatOptions.ConversationId"/>, else
    /// <see cref="MemoryChatClientOptions.SessionId"/>. Callers then send only their new messages. Place it below
    /// <c>UseFunctionInvocation()</c> so tool calls and results are stored as they happen.
    /// </summary>
    /// <param name="builder">The pipeline.</param>
    /// <param name="manager">The store's manager; null: the <see cref="IMemoryManager"/> of the pipeline's services.</param>
    /// <param name="configure">Sets the options.</param>
    public static ChatClientBuilder UseLangSwarmMemory(this ChatClientBuilder builder, IMemoryManager? manager = null, Action<MemoryChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new MemoryChatClientOptions();
        configure?.Invoke(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxContextTokens);
        return builder.Use((inner, services) => new MemoryChatClient(
            inner,
            manager ?? services.GetRequiredService<IMemoryManager>(),
            options,
            services.GetService<ILoggerFactory>()?.CreateLogger("LangSwarm.Memory.AI") ?? NullLogger.Instance));
    }
}
