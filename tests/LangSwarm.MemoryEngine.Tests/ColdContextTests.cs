using System.Text.Json.Nodes;
using LangSwarm.Memory;
using Xunit;

namespace LangSwarm.MemoryEngine.Tests;

/// <summary>
/// A context of a long session not read since the open costs what its window needs: it is read newest first from
/// the index file (and the entries appended since), and the session's entry list is never loaded.
/// </summary>
public sealed class ColdContextTests
{
    [Fact]
    public async Task ContextOfAColdLongSession_IsTheSame_AndLoadsNoEntryList()
    {
        using var dir = new TempStore();
        var backend = await OpenAsync(dir.Path);
        var session = await backend.CreateSessionAsync(new SessionMetadata("long", "u") { SummaryStrategy = SummaryStrategy.Manual, MaxMessages = 1_000_000, MaxTokens = 100_000_000 });
        await session.AddMessagesAsync(Generate(0, 5_000));
        var hot = Describe(await session.GetConversationContextAsync(2_000));
        var hotRecent = Describe(await session.GetRecentMessagesAsync(700));
        await backend.DisposeAsync();

        backend = await OpenAsync(dir.Path);
        session = (await backend.GetSessionAsync("long"))!;
        var entry = backend.Engine.Index.Resident().Single();
        Assert.False(entry.MessagesLoaded);
        Assert.Equal(hot, Describe(await session.GetConversationContextAsync(2_000)));
        Assert.Equal(hotRecent, Describe(await session.GetRecentMessagesAsync(700)));
        Assert.False(entry.MessagesLoaded); // from the file's keys, newest first: not the session's 5,000 entries

        // Appends after the open sit above what the file holds; the cold read joins both.
        await session.AddMessagesAsync(Generate(5_000, 30));
        var cold = Describe(await session.GetConversationContextAsync(2_000));
        var coldRecent = Describe(await session.GetRecentMessagesAsync(700));
        Assert.False(entry.MessagesLoaded);
        lock (entry.Lock)
        {
            _ = entry.LoadMessages();
        }
        Assert.Equal(cold, Describe(await session.GetConversationContextAsync(2_000)));
        Assert.Equal(coldRecent, Describe(await session.GetRecentMessagesAsync(700)));
        Assert.Equal("5030 Assistant Assistant 5030", cold[^1]);
        Assert.True((await backend.VerifyAsync()).Ok);
        await backend.DisposeAsync();
    }

    /// <summary>A system message first, then turns with a tool-call block every tenth message, 20 tokens each.</summary>
    private static List<Message> Generate(int from, int count)
    {
        var list = new List<Message>(count);
        for (var i = from; i < from + count; i++)
        {
            Message m;
            if (i == 0)
            {
                m = new Message(MessageRole.System, "rules");
            }
            else if (i % 10 == 3)
            {
                m = new Message(MessageRole.Assistant, string.Empty)
                {
                    ToolCalls = [new JsonObject { ["id"] = $"c{i}", ["type"] = "function", ["function"] = new JsonObject { ["name"] = "f", ["arguments"] = "{}" } }],
                };
            }
            else if (i % 10 == 4)
            {
                m = new Message(MessageRole.Tool, $"result {i + 1}");
                m.Metadata["tool_call_id"] = $"c{i - 1}";
            }
            else
            {
                m = new Message(i % 2 == 0 ? MessageRole.User : MessageRole.Assistant, $"{(i % 2 == 0 ? "User" : "Assistant")} {i + 1}");
            }
            m.TokenCount = 20;
            list.Add(m);
        }
        return list;
    }

    private static List<string> Describe(IReadOnlyList<Message> context) =>
        [.. context.Select(m => $"{m.Sequence} {m.Role} {m.Content}")];

    private static async Task<EngineBackend> OpenAsync(string path)
    {
        var backend = new EngineBackend(new EngineOptions { Path = path, Durability = DurabilityMode.None });
        await backend.ConnectAsync();
        return backend;
    }
}
