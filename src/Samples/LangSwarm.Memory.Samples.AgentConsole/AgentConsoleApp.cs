using LangSwarm.Memory.Agents;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LangSwarm.Memory.Samples.AgentConsole;

/// <summary>
/// The sample app: a host whose LangSwarm memory store comes from <c>appsettings.json</c> (section
/// <c>LangSwarm:Memory</c>: the engine at its default path unless <c>Options:path</c> says otherwise), and a
/// <see cref="ChatClientAgent"/> whose history is that store, one conversation (<c>Agent:Conversation</c>) that
/// continues across runs.
/// </summary>
public static class AgentConsoleApp
{
    /// <summary>The host builder: configuration from appsettings.json, the environment and <paramref name="args"/>.</summary>
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.Services.AddLangSwarmMemory(builder.Configuration.GetSection("LangSwarm:Memory"));
        builder.Services.AddSingleton<ScriptedModel>();
        builder.Services.AddSingleton<IChatClient>(sp => sp.GetRequiredService<ScriptedModel>());
        builder.Services.AddSingleton<AIAgent>(sp => CreateAgent(sp, builder.Configuration.GetSection("Agent")));
        return builder;
    }

    /// <summary>The agent: the chat client, a tool, and the LangSwarm history provider.</summary>
    public static ChatClientAgent CreateAgent(IServiceProvider services, IConfiguration agent)
    {
        var conversation = agent["Conversation"] ?? "console";
        var history = new LangSwarmChatHistoryProvider(
            services.GetRequiredService<Memory.IMemoryManager>(),
            new LangSwarmChatHistoryOptions
            {
                MaxContextTokens = agent.GetValue("MaxContextTokens", 8000),
                SessionIdFactory = _ => conversation,
            },
            services.GetService<ILoggerFactory>()?.CreateLogger("LangSwarm.Memory.Agents"));
        return new ChatClientAgent(
            services.GetRequiredService<IChatClient>(),
            new ChatClientAgentOptions
            {
                Name = agent["Name"],
                ChatOptions = new ChatOptions
                {
                    Instructions = agent["Instructions"],
                    Tools = [AIFunctionFactory.Create(GetTime, "get_time", "The current time, UTC.")],
                },
                ChatHistoryProvider = history,
                // Store each model call's messages (the tool call, its result) as they happen, not at the end.
                RequirePerServiceCallChatHistoryPersistence = true,
            },
            services.GetService<ILoggerFactory>(),
            services);
    }

    /// <summary>Runs one conversation turn per line of <paramref name="lines"/>, writing the agent's replies.</summary>
    public static async Task RunAsync(IHost host, IAsyncEnumerable<string> lines, TextWriter output, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        var agent = host.Services.GetRequiredService<AIAgent>();
        var session = await agent.CreateSessionAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var line in lines.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var response = await agent.RunAsync(line, session, cancellationToken: cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"agent> {response.Text}".AsMemory(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Entry point: reads user lines from standard input until it ends.</summary>
    public static async Task<int> Main(string[] args)
    {
        using var host = CreateBuilder(args).Build();
        await host.StartAsync().ConfigureAwait(false);
        await RunAsync(host, ReadLines(Console.In), Console.Out, CancellationToken.None).ConfigureAwait(false);
        await host.StopAsync().ConfigureAwait(false);
        return 0;
    }

    private static string GetTime() => DateTimeOffset.UtcNow.ToString("HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    private static async IAsyncEnumerable<string> ReadLines(TextReader reader)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            yield return line;
        }
    }
}
