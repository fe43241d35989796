using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using LangSwarm.Memory;

namespace LangSwarm.Memory.Cli;

/// <summary>
/// <c>lsmem demo</c>: a short scripted conversation with a tool call, stored through the manager on the default
/// backend, then printed as the context an OpenAI or Anthropic call would get, with the store's statistics.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var c = new Command("demo", "Run a scripted multi-turn conversation with a tool call and print its context in OpenAI and Anthropic format.");
        StoreOptions.AddTo(c);
        CommandRunner.SetAction(c, async (pr, io, ct) =>
        {
            await RunAsync(pr, io.Out, ct);
            return ExitCodes.Ok;
        });
        return c;
    }

    private static async Task RunAsync(ParseResult pr, TextWriter output, CancellationToken ct)
    {
        await using var store = await StoreAccess.OpenAsync(StoreOptions.Spec(pr), StoreAccessMode.ReadWrite, ct);
        var manager = new MemoryManager(store.Backend);
        output.WriteLine($"backend: {manager.Backend.Name}");
        var session = await manager.CreateSessionAsync(
            userId: "demo-user",
            sessionId: $"demo-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            configure: m =>
            {
                m.MaxTokens = 16000;
                m.Metadata["app"] = "lsmem-demo";
            },
            cancellationToken: ct);
        output.WriteLine($"session: {session.SessionId}");

        var call = OpenAIFormat.CreateOpenAIMessage(
            "assistant",
            null,
            toolCalls:
            [
                new JsonObject
                {
                    ["id"] = "call_weather_1",
                    ["type"] = "function",
                    ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"location\":\"San Francisco\"}" },
                },
            ]);
        Message[] script =
        [
            OpenAIFormat.CreateOpenAIMessage("system", "You are a helpful travel assistant with access to weather tools."),
            OpenAIFormat.CreateOpenAIMessage("user", "Hello! I'm flying to San Francisco tomorrow. What's the weather like there?"),
            call,
            OpenAIFormat.CreateOpenAIMessage("tool", "{\"temperature_f\": 64, \"condition\": \"fog, clearing by noon\"}", toolCallId: "call_weather_1"),
            OpenAIFormat.CreateOpenAIMessage("assistant", "It's 64°F in San Francisco with morning fog clearing by noon. Bring a light jacket."),
            OpenAIFormat.CreateOpenAIMessage("user", "Thanks! Any tip for the evening?"),
            OpenAIFormat.CreateOpenAIMessage("assistant", "Evenings get windy and cool near the bay; a warm layer will make a sunset walk at Crissy Field pleasant."),
        ];
        foreach (var m in script)
        {
            await session.AddMessageAsync(m, ct);
        }

        var context = await session.GetConversationContextAsync(4000, ct);
        output.WriteLine($"\ncontext: {context.Count} messages, {context.Sum(m => m.TokenCount ?? 0)} tokens (o200k_base)");
        output.WriteLine("\n== OpenAI format ==");
        output.WriteLine(CliCommands.Json(OpenAIFormat.MessagesToOpenAIFormat(context)));
        var anthropic = AnthropicFormat.MessagesToAnthropicFormat(context);
        output.WriteLine("\n== Anthropic format ==");
        output.WriteLine(CliCommands.Json(new JsonObject { ["system"] = anthropic.System, ["messages"] = anthropic.Messages.DeepClone() }));

        var summary = await session.CreateSummaryAsync(SummaryType.Manual, ct);
        output.WriteLine($"\n== Summary ({summary.MessageCount} messages) ==\n{summary.SummaryText}");

        var stats = await manager.GetSystemStatsAsync(ct);
        output.WriteLine("\n== Usage stats ==");
        output.WriteLine(JsonSerializer.Serialize(stats.ToDictionary(), CliCommands.Pretty));
    }
}
