using LangSwarm.Memory.Samples.AgentConsole;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace LangSwarm.Memory.Hosting.Tests;

/// <summary>The sample console agent, run as its Main would run it, twice on the same store.</summary>
public sealed class SampleAppTests
{
    private static async IAsyncEnumerable<string> Lines(params string[] lines)
    {
        foreach (var line in lines)
        {
            await Task.Yield();
            yield return line;
        }
    }

    [Fact]
    public async Task Conversation_continues_after_the_host_is_built_again_on_the_same_store()
    {
        using var dir = new TempDir();
        // appsettings.json puts the engine at its default path; the test points it at a temp directory.
        string[] args = [$"--LangSwarm:Memory:Options:path={dir.Path}"];

        var first = new StringWriter();
        using (var host = AgentConsoleApp.CreateBuilder(args).Build())
        {
            var manager = host.Services.GetRequiredService<IMemoryManager>();
            Assert.Equal("engine", manager.Backend.Name);
            // Read from the sample's appsettings.json.
            Assert.Equal(TimeSpan.FromDays(30), Assert.IsAssignableFrom<MemoryBackendBase>(manager.Backend).Retention!.ArchivedMaxAge);
            Assert.Equal("console-agent", host.Services.GetRequiredService<Microsoft.Agents.AI.AIAgent>().Name);
            await host.StartAsync(Ct.Token);
            await AgentConsoleApp.RunAsync(host, Lines("Hello, my name is Ada.", "What time is it?"), first, Ct.Token);
            await host.StopAsync(Ct.Token);
        }
        var replies = first.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("agent> Nice to meet you, Ada.", replies[0]);
        Assert.StartsWith("agent> It is ", replies[1], StringComparison.Ordinal);

        var second = new StringWriter();
        using (var host = AgentConsoleApp.CreateBuilder(args).Build())
        {
            await host.StartAsync(Ct.Token);
            await AgentConsoleApp.RunAsync(host, Lines("Do you remember my name?"), second, Ct.Token);

            Assert.Equal("agent> Your name is Ada.", second.ToString().Trim());
            var model = host.Services.GetRequiredService<ScriptedModel>();
            Assert.Same(model, host.Services.GetRequiredService<IChatClient>());

            var manager = host.Services.GetRequiredService<IMemoryManager>();
            var stored = await (await manager.GetSessionAsync("console", Ct.Token))!.GetMessagesAsync(cancellationToken: Ct.Token);
            Assert.Equal(
                [
                    (MessageRole.User, "Hello, my name is Ada."),
                    (MessageRole.Assistant, "Nice to meet you, Ada."),
                    (MessageRole.User, "What time is it?"),
                    (MessageRole.Assistant, string.Empty),
                    (MessageRole.Tool, stored[4].Content),
                    (MessageRole.Assistant, $"It is {stored[4].Content} (UTC)."),
                    (MessageRole.User, "Do you remember my name?"),
                    (MessageRole.Assistant, "Your name is Ada."),
                ],
                stored.Select(m => (m.Role, m.Content)));
            Assert.Equal("get_time", stored[3].ToChatMessage().Contents.OfType<FunctionCallContent>().Single().Name);
            await host.StopAsync(Ct.Token);
        }
    }
}
