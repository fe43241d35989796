using System.Text.Json.Nodes;
using LangSwarm.MemoryEngine;

namespace LangSwarm.Memory.Cli.Tests;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lsmem-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}

/// <summary>One lsmem run in process: exit code and what it wrote.</summary>
internal sealed record CliRun(int Exit, string Out, string Err);

/// <summary>Runs lsmem command lines in process with captured output (never a terminal: plain text, no progress bar).</summary>
internal static class Lsmem
{
    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(null, args);

    /// <summary>Runs a command line that reads its environment variables (<c>LSMEM_KEY</c>, ...) from <paramref name="environment"/> only (null: the process's).</summary>
    public static async Task<CliRun> RunAsync(IReadOnlyDictionary<string, string?>? environment, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await LsmemApp.RunAsync(args, output, error, environment: environment is null ? null : name => environment.GetValueOrDefault(name));
        return new CliRun(exit, output.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), error.ToString());
    }
}

/// <summary>A clock that stands still (summaries get this time).</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>The sessions the tests put in a store: tool calls, a summary, an archived session, evicted gaps, non-ASCII text.</summary>
internal static class Conversations
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 30, 9, 15, 0, TimeSpan.Zero);

    /// <summary>Opens an engine store at <paramref name="path"/>, fills it, and closes it.</summary>
    public static async Task FillEngineAsync(string path)
    {
        await using var engine = new EngineBackend(path);
        await FillAsync(engine);
    }

    public static async Task FillAsync(MemoryBackendBase backend)
    {
        backend.Clock = new FixedClock(T0.AddHours(1));
        if (!backend.IsConnected)
        {
            await backend.ConnectAsync();
        }
        var trip = await backend.CreateSessionAsync(new SessionMetadata("trip-sf", "alice") { CreatedAt = T0, UpdatedAt = T0, SummaryStrategy = SummaryStrategy.Manual, Metadata = new JsonObject { ["app"] = "travel", ["größe"] = "ß ✓" } });
        await trip.AddMessagesAsync(
        [
            Msg("m1", MessageRole.System, "You are a travel assistant.", 0),
            Msg("m2", MessageRole.User, "Weather in San Francisco tomorrow?", 1),
            Call("m3", 2),
            Result("m4", 3),
            Msg("m5", MessageRole.Assistant, "64°F with fog until noon.\nBring a jacket.", 4),
        ]);
        await trip.CreateSummaryAsync(SummaryType.Manual);
        await trip.AddMessageAsync(Msg("m6", MessageRole.User, "Thanks!", 5));

        backend.Clock = new FixedClock(T0.AddDays(-2).AddHours(1));
        var old = await backend.CreateSessionAsync(new SessionMetadata("trip-old", "alice") { CreatedAt = T0.AddDays(-2), UpdatedAt = T0.AddDays(-2) });
        await old.AddMessageAsync(Msg("o1", MessageRole.User, "An old question", -2 * 24 * 60));
        await old.ArchiveSessionAsync();

        backend.Clock = new FixedClock(T0.AddHours(2));
        var chat = await backend.CreateSessionAsync(new SessionMetadata("chat-bob", "bob") { CreatedAt = T0, UpdatedAt = T0, MaxMessages = 6, SummaryStrategy = SummaryStrategy.Manual });
        for (var i = 0; i < 12; i++)
        {
            await chat.AddMessageAsync(Msg($"b{i}", i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"turn {i}", 10 + i));
        }
        await backend.WhenSummariesIdleAsync();
    }

    public static Message Msg(string id, MessageRole role, string content, int minute) =>
        new(role, content) { MessageId = id, Timestamp = T0.AddMinutes(minute) };

    private static Message Call(string id, int minute) => new()
    {
        Role = MessageRole.Assistant,
        Content = string.Empty,
        MessageId = id,
        Timestamp = T0.AddMinutes(minute),
        ToolCalls = [new JsonObject { ["id"] = "call_1", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "get_weather", ["arguments"] = "{\"city\":\"SF\"}" } }],
    };

    private static Message Result(string id, int minute)
    {
        var m = Msg(id, MessageRole.Tool, "{\"temp_f\":64}", minute);
        m.Metadata["tool_call_id"] = "call_1";
        return m;
    }
}
